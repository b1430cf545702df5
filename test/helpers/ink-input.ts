// Waiting on an ink app rendered by ink-testing-library by its events, never by time: when it starts
// reading keys (ink attaches a `readable` listener to stdin in an effect, after the first frame; a key
// written earlier is lost), when a frame it writes shows something, and when it stops reading keys
// (on exit).
import type { render } from 'ink-testing-library';

type App = ReturnType<typeof render>;

function listenerChange(app: App, change: 'newListener' | 'removeListener', reading: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (app.stdin.listenerCount('readable') > 0 === reading) return resolve();
    const onChange = (name: string): void => {
      if (name !== 'readable') return;
      app.stdin.off(change, onChange);
      // newListener fires before the listener is added: let ink finish attaching it.
      queueMicrotask(resolve);
    };
    app.stdin.on(change, onChange);
  });
}

/** Resolves once the app reads keys. */
export const readingKeys = (app: App): Promise<void> => listenerChange(app, 'newListener', true);

/** Resolves once the app no longer reads keys (it exited). */
export const stoppedReadingKeys = (app: App): Promise<void> => listenerChange(app, 'removeListener', false);

/** Writes `key`, then resolves with the first frame written after it for which `shows` holds. */
export function press(app: App, key: string, shows: (frame: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    const write = app.stdout.write;
    app.stdout.write = (frame: string): void => {
      write(frame);
      if (!shows(frame)) return;
      app.stdout.write = write;
      resolve(frame);
    };
    app.stdin.write(key);
  });
}
