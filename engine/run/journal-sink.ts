// Owns writing a run's events to its journal as they happen. A journal that cannot be written (a full
// disk, say) leaves a run that cannot be followed or resumed safely: the first failure is reported
// once, so the run can be stopped; later events are still tried, as the disk may recover.
import type { RunEventSink } from '../events/run-event-sink.js';

export function journalSink(append: (line: string) => void, onFailure: (error: Error) => void): RunEventSink {
  let failed = false;
  return {
    onEvent: (event) => {
      try {
        append(JSON.stringify(event));
      } catch (error) {
        if (!failed) onFailure(error as Error);
        failed = true;
      }
    },
    close: async () => {},
  };
}
