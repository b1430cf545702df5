// Owns sampling the engine process's memory and CPU while a run goes on, so the journal keeps what the
// run cost the machine: a `resource-sample` at each step's start and end, and then at most one per
// interval — taken by a timer while the main thread waits (steps in worker threads, remote steps), and
// on the next event when a step keeps it busy (a training loop that reports progress but never yields).
// The reading is injected; `resourceSample` turns two readings into an event and is pure.
import type { EmitRunEvent, RunEvent } from '../events/run-event.js';

/** One reading of the process: resident memory, CPU time used so far (user + system) and when. */
export interface ResourceReading {
  rssBytes: number;
  cpuMicros: number;
  atMs: number;
}

export function readProcessResources(): ResourceReading {
  const cpu = process.cpuUsage();
  return { rssBytes: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system, atMs: Date.now() };
}

/** The sample for `current`, with CPU over the time since `previous` (in % of one core; above 100 with threads). */
export function resourceSample(previous: ResourceReading, current: ResourceReading): RunEvent {
  const wallMicros = (current.atMs - previous.atMs) * 1000;
  const cpuPercent = wallMicros > 0 ? (100 * (current.cpuMicros - previous.cpuMicros)) / wallMicros : 0;
  return {
    kind: 'resource-sample',
    rssBytes: current.rssBytes,
    cpuPercent: Math.round(cpuPercent * 10) / 10,
    time: new Date(current.atMs).toISOString(),
  };
}

export interface ResourceSampler {
  /** The run's sink, taking a sample before a step's start or end, the run's end, or an event past the interval. */
  emit: EmitRunEvent;
  /** No more samples: events emitted after this (a report written once the run ended) pass straight through. */
  stop(): void;
}

/** Events a sample is taken right before, so even a step shorter than the interval has one at each end. */
const BOUNDARIES = new Set<RunEvent['kind']>(['step-started', 'step-finished', 'step-failed', 'step-interrupted', 'run-finished']);

export function startResourceSampler(
  emit: EmitRunEvent,
  intervalMs: number,
  read: () => ResourceReading = readProcessResources,
): ResourceSampler {
  let previous = read();
  const sample = (): void => {
    const current = read();
    emit(resourceSample(previous, current));
    previous = current;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  let stopped = false;
  return {
    emit: (event) => {
      if (!stopped && (BOUNDARIES.has(event.kind) || Date.now() - previous.atMs >= intervalMs)) sample();
      emit(event);
    },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
