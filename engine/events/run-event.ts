// Owns the typed event stream of a run. The executor emits RunEvents; the journal, the plain-text
// printer, JSON lines and the terminal UI are sinks of this one stream.
import type { RerunReason } from '../plan/rerun-reason.js';
import type { StepSummary } from '../index.js';

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
    | { kind: 'step-progress'; step: string; done: number; total?: number; unit: string; counters?: Record<string, number> }
    | { kind: 'step-log'; step: string; message: string }
    | { kind: 'step-finished'; step: string; key: string; durationMs: number; summary: StepSummary; outputs: string[]; external: string[] }
    | { kind: 'step-failed'; step: string; message: string; hint?: string }
    | { kind: 'step-interrupted'; step: string }
    | { kind: 'step-blocked'; step: string; by: string }
    | { kind: 'run-finished'; status: 'ok' | 'failed' | 'interrupted'; durationMs: number }
  );

/** How producers (the executor, step contexts, remote and worker runs) hand an event on. */
export type EmitRunEvent = (event: RunEvent) => void;
