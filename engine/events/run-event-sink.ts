// Owns the contract of a run view: a RunEventSink receives every event of one run, in order, and is
// closed once when the run ends (like Vitest's reporters). Journal, JSON lines, plain text and the
// terminal UI are sinks; redaction and fan-out wrap sinks.
import type { RunEvent } from './run-event.js';

export interface RunEventSink {
  onEvent(event: RunEvent): void;
  /** The run has ended: flush and release what the sink holds. Called once, after the last event. */
  close(): Promise<void>;
}
