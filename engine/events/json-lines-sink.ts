// Owns the JSON-lines view of a run (`--json`): one event per line, as the journal stores it.
import type { RunEventSink } from './run-event-sink.js';

export function jsonLinesSink(write: (text: string) => void): RunEventSink {
  return {
    onEvent: (event) => write(`${JSON.stringify(event)}\n`),
    close: async () => {},
  };
}
