// Owns the live run view on a terminal: a sink for RunEvents that renders them with ink.
import { render } from 'ink';
import type { RunEvent } from '../events/run-event.js';
import type { RunEventSink } from '../events/run-event-sink.js';
import { LiveRun } from './LiveRun.js';

export function showRun(): RunEventSink {
  const listeners = new Set<(event: RunEvent) => void>();
  const subscribe = (listener: (event: RunEvent) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  // The run handles Ctrl-C itself (graceful stop), so ink must not exit on it.
  const app = render(<LiveRun subscribe={subscribe} width={process.stdout.columns || 100} />, { exitOnCtrlC: false, patchConsole: false });
  return {
    onEvent: (event) => listeners.forEach((l) => l(event)),
    close: async () => {
      await new Promise((r) => setTimeout(r, 20)); // let the last state render
      app.unmount();
      await app.waitUntilExit();
    },
  };
}
