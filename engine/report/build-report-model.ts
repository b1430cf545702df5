// Owns turning what a run left (its journal, the journals of earlier runs, its metrics and its
// embedding map) into a ReportModel. Pure: the facts arrive read; nothing here touches files or clocks.
import type { PlannedStep, RunEvent } from '../events/run-event.js';
import { describeReason } from '../plan/rerun-reason.js';
import type {
  EmbeddingMap,
  MetricPoint,
  PriorAttempt,
  RatePoint,
  ReportModel,
  ResourcePoint,
  RunOutcome,
  StepOutcome,
  StepReport,
} from './report-model.js';

export interface RunFacts {
  events: readonly RunEvent[];
  /** The journals of earlier runs in the same state directory, oldest first. */
  earlier: readonly { runId: string; events: readonly RunEvent[] }[];
  /** Training curves by step (from each step's `metrics` outputs). */
  metrics: ReadonlyMap<string, MetricPoint[]>;
  map?: EmbeddingMap;
  notes: readonly string[];
}

type EventOf<K extends RunEvent['kind']> = Extract<RunEvent, { kind: K }>;

function ofKind<K extends RunEvent['kind']>(events: readonly RunEvent[], kind: K): EventOf<K>[] {
  return events.filter((e): e is EventOf<K> => e.kind === kind);
}

/** Counters that are not a throughput (progress through a step's own shards). */
const NOT_A_RATE = new Set(['shards']);

function ratesOf(
  progress: readonly EventOf<'step-progress'>[],
  startMs: number,
  at: (time: string) => number,
): Record<string, RatePoint[]> {
  const rates: Record<string, RatePoint[]> = {};
  for (const e of progress) {
    const elapsed = (Date.parse(e.time) - startMs) / 1000;
    if (elapsed <= 0) continue;
    for (const [counter, value] of Object.entries({ [e.unit]: e.done, ...(e.counters ?? {}) })) {
      if (NOT_A_RATE.has(counter)) continue;
      (rates[counter] ??= []).push({ t: at(e.time), perSecond: value / elapsed });
    }
  }
  return rates;
}

/** The highest RSS among the samples that cover [start, end]: those inside it and the first one after. */
function peakRss(resources: readonly ResourcePoint[], start: number, end: number): number | undefined {
  let peak: number | undefined;
  for (const r of resources) {
    if (r.t < start) continue;
    peak = Math.max(peak ?? 0, r.rssBytes);
    if (r.t >= end) break;
  }
  return peak;
}

function outcomeOf(events: readonly RunEvent[], resumedShards: number, runEnded: boolean): StepOutcome {
  const last = events.findLast(
    (e) => e.kind !== 'step-log' && e.kind !== 'step-progress' && e.kind !== 'shard-done' && e.kind !== 'shard-resumed',
  );
  switch (last?.kind) {
    case undefined:
      return 'not-run';
    case 'step-cached':
      return 'cached';
    case 'step-finished':
      return resumedShards > 0 ? 'resumed' : 'ran';
    case 'step-failed':
      return 'failed';
    case 'step-interrupted':
      return 'interrupted';
    case 'step-blocked':
      return 'blocked';
    default:
      return runEnded ? 'interrupted' : 'killed';
  }
}

function priorAttempts(step: string, key: string, earlier: RunFacts['earlier']): PriorAttempt[] {
  const prior: PriorAttempt[] = [];
  for (const run of earlier) {
    const mine = run.events.filter((e) => 'step' in e && e.step === step);
    if (!mine.some((e) => e.kind === 'step-started' && e.key === key)) continue;
    if (mine.some((e) => e.kind === 'step-finished')) continue;
    const failed = mine.find((e) => e.kind === 'step-failed');
    const completed = ofKind(mine, 'shard-done').map((e) => e.unit);
    const outcome = failed !== undefined ? 'failed' : mine.some((e) => e.kind === 'step-interrupted') ? 'interrupted' : 'killed';
    prior.push({ step, runId: run.runId, outcome, ...(failed?.kind === 'step-failed' ? { message: failed.message } : {}), completed });
  }
  return prior;
}

function fallbackPlan(step: string): PlannedStep {
  return { step, uses: '?', upstream: [], device: { label: 'local cpu', kind: 'cpu', chips: 1, pricePerHour: 0 } };
}

export function buildReportModel(facts: RunFacts): ReportModel {
  const { events } = facts;
  const started = ofKind(events, 'run-started')[0];
  if (started === undefined) throw new Error('bug: a report of a journal without run-started');
  const startMs = Date.parse(started.time);
  const at = (time: string): number => (Date.parse(time) - startMs) / 1000;
  const finished = ofKind(events, 'run-finished')[0];
  const lastMs = Math.max(...events.map((e) => Date.parse(e.time)));
  const outcome: RunOutcome = finished?.status ?? 'killed';
  const notes = [...facts.notes];

  const planned = ofKind(events, 'run-planned')[0]?.steps;
  if (planned === undefined)
    notes.push('the journal has no run-planned event (a run from before reports): no devices, costs or graph edges');
  const plans = planned ?? started.steps.map(fallbackPlan);
  const resources: ResourcePoint[] = ofKind(events, 'resource-sample').map((e) => ({
    t: at(e.time),
    rssBytes: e.rssBytes,
    cpuPercent: e.cpuPercent,
  }));
  if (resources.length === 0) notes.push('the journal has no resource samples: no memory or CPU figures');

  const history: PriorAttempt[] = [];
  const steps = plans.map((plan): StepReport => {
    const mine = events.filter((e) => 'step' in e && e.step === plan.step);
    const startedEvent = ofKind(mine, 'step-started')[0];
    const cachedEvent = ofKind(mine, 'step-cached')[0];
    const finishedEvent = ofKind(mine, 'step-finished')[0];
    const failedEvent = ofKind(mine, 'step-failed')[0];
    const blockedEvent = ofKind(mine, 'step-blocked')[0];
    const done = ofKind(mine, 'shard-done').map((e) => ({
      unit: e.unit,
      t: at(e.time),
      ...(e.rows !== undefined ? { rows: e.rows } : {}),
    }));
    const resumed = ofKind(mine, 'shard-resumed').map((e) => ({ unit: e.unit, t: at(e.time) }));
    const ends = mine.filter((e) => e.kind === 'step-finished' || e.kind === 'step-failed' || e.kind === 'step-interrupted');
    const start = startedEvent ? at(startedEvent.time) : cachedEvent ? at(cachedEvent.time) : undefined;
    const endTime = ends[0]?.time ?? (startedEvent ? new Date(lastMs).toISOString() : cachedEvent?.time);
    const end = endTime === undefined ? undefined : at(endTime);
    const durationMs =
      finishedEvent?.durationMs ?? (start !== undefined && end !== undefined ? Math.round((end - start) * 1000) : undefined);
    const rows = done.reduce((n, s) => n + (s.rows ?? 0), 0);
    const summary = finishedEvent?.summary ?? {};
    const sequences = typeof summary.sequences === 'number' ? summary.sequences : rows;
    const secondsPerSequence = plan.estimate?.secondsPerSequence;
    const estimatedSeconds = secondsPerSequence !== undefined && startedEvent ? secondsPerSequence * sequences : undefined;
    const peak = startedEvent && start !== undefined && end !== undefined ? peakRss(resources, start, end) : undefined;
    if (startedEvent) history.push(...priorAttempts(plan.step, startedEvent.key, facts.earlier));
    return {
      step: plan.step,
      uses: plan.uses,
      outcome: outcomeOf(mine, resumed.length, finished !== undefined),
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
      rows,
      reasons: startedEvent ? startedEvent.reasons.map(describeReason) : [],
      ...(failedEvent
        ? { failure: { message: failedEvent.message, ...(failedEvent.hint !== undefined ? { hint: failedEvent.hint } : {}) } }
        : {}),
      ...(blockedEvent ? { blockedBy: blockedEvent.by } : {}),
      done,
      resumed,
      rates: startedEvent ? ratesOf(ofKind(mine, 'step-progress'), Date.parse(startedEvent.time), at) : {},
      ...(peak !== undefined ? { peakRssBytes: peak } : {}),
      device: { label: plan.device.label, kind: plan.device.kind },
      attempts: ofKind(mine, 'step-attempt').map((e) => ({ attempt: e.attempt, node: e.node, shards: e.shards, t: at(e.time) })),
      preemptions: ofKind(mine, 'step-preempted').map((e) => ({ attempt: e.attempt, node: e.node, state: e.state, t: at(e.time) })),
      cost: {
        ...(estimatedSeconds !== undefined
          ? { estimatedSeconds, estimatedCost: (estimatedSeconds / 3600) * plan.device.pricePerHour }
          : {}),
        actualCost: startedEvent && durationMs !== undefined ? (durationMs / 3_600_000) * plan.device.pricePerHour : 0,
      },
      summary,
      metrics: facts.metrics.get(plan.step) ?? [],
    };
  });

  const outcomes = new Map(steps.map((s) => [s.step, s.outcome]));
  return {
    run: {
      runId: started.runId,
      workflow: started.workflow,
      file: started.file,
      outcome,
      startedAt: started.time,
      durationMs: finished?.durationMs ?? lastMs - startMs,
    },
    steps,
    resources,
    graph: {
      nodes: plans.map((p) => ({ id: p.step, uses: p.uses, outcome: outcomes.get(p.step) ?? 'not-run' })),
      edges: plans.flatMap((p) => p.upstream.map((u) => ({ from: u.step, to: p.step, ...(u.port !== undefined ? { port: u.port } : {}) }))),
    },
    history,
    ...(facts.map ? { map: facts.map } : {}),
    notes,
  };
}
