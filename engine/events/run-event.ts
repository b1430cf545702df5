// Owns the typed event stream of a run. The executor emits RunEvents; the journal, the plain-text
// printer, JSON lines and the terminal UI are sinks of this one stream.
import type { RerunReason } from '../plan/rerun-reason.js';
import type { StepSummary } from '../plugin-api/step-plugin.js';

interface Timed {
  /** ISO time the event happened. */
  time: string;
}

export type RunEvent = Timed &
  (
    | { kind: 'run-started'; runId: string; workflow: string; file: string; steps: string[] }
    | { kind: 'step-cached'; step: string; key: string }
    | { kind: 'step-started'; step: string; key: string; reasons: RerunReason[] }
    | { kind: 'shard-done'; step: string; unit: string; rows?: number }
    | { kind: 'shard-resumed'; step: string; unit: string }
    | {
        kind: 'step-progress';
        step: string;
        done: number;
        total?: number;
        unit: string;
        counters?: Record<string, number>;
        values?: Record<string, number>;
        /** Seconds left, when the producer knows better than the rate since the step started (a remote step's hosts). */
        etaSeconds?: number;
      }
    | { kind: 'step-log'; step: string; message: string }
    | { kind: 'step-finished'; step: string; key: string; durationMs: number; summary: StepSummary; outputs: string[]; external: string[] }
    | { kind: 'step-failed'; step: string; message: string; hint?: string }
    | { kind: 'step-interrupted'; step: string }
    | { kind: 'step-blocked'; step: string; by: string }
    | { kind: 'run-finished'; status: 'ok' | 'failed' | 'interrupted'; durationMs: number }
    | {
        kind: 'run-planned';
        /** Every step in workflow order, with its wiring and placement, so a journal alone can draw the run. */
        steps: PlannedStep[];
      }
    | {
        kind: 'resource-sample';
        /** Resident set size of the engine process (worker threads included), in bytes. */
        rssBytes: number;
        /** CPU time used since the previous sample over the wall time between them, in % of one core. */
        cpuPercent: number;
      }
    | {
        kind: 'step-attempt';
        step: string;
        /** 1 for the first node created for the step, counting up with each recreation. */
        attempt: number;
        /** The remote node (TPU VM) running this attempt. */
        node: string;
        /** Shards this attempt was given (those without a marker yet; 0 for a training job). */
        shards: number;
      }
    | {
        kind: 'step-preempted';
        step: string;
        attempt: number;
        node: string;
        /** The node or queued-resource state that ended the attempt (PREEMPTED, TERMINATED, SUSPENDED, FAILED). */
        state: string;
      }
    | {
        kind: 'report-written';
        /** Where `strand run --report` wrote the HTML report (as given or relative to the working directory). */
        path: string;
      }
  );

/** How producers (the executor, step contexts, remote and worker runs) hand an event on. */
export type EmitRunEvent = (event: RunEvent) => void;

/** A step as the run placed it before starting: what it uses, what feeds it, where it runs and the estimate. */
export interface PlannedStep {
  step: string;
  uses: string;
  /** Upstream steps: through an input `port`, or an ordering-only `needs` (no port). */
  upstream: { step: string; port?: string }[];
  device: {
    /** `local cpu`, `v4-16 (spot)`: the catalog's label. */
    label: string;
    kind: 'cpu' | 'tpu' | 'gpu';
    chips: number;
    /** Price per hour of the whole placement at the rate it runs on (spot or on demand); 0 for the local machine. */
    pricePerHour: number;
  };
  /** The plan-time estimate, for accelerator steps whose model facts are known. */
  estimate?: {
    /** Seconds per input sequence at the catalog's utilisation: times the sequences the step read gives its estimated time. */
    secondsPerSequence?: number;
    /** Absent when the model's layers or hidden size are unknown (activations cannot be sized). */
    memoryBytesPerDevice?: number;
    memoryLimitBytesPerDevice: number;
  };
}
