// Owns fanning one event stream out to several sinks: each event reaches them in the order given,
// and closing closes them in that order.
import type { RunEventSink } from './run-event-sink.js';

export function combineSinks(sinks: readonly RunEventSink[]): RunEventSink {
  return {
    onEvent: (event) => sinks.forEach((sink) => sink.onEvent(event)),
    close: async () => {
      for (const sink of sinks) await sink.close();
    },
  };
}
