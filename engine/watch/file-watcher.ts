// Owns watching files with chokidar (the only module that imports it). Editors save by writing a
// temporary file and renaming it over the original: chokidar's atomic option and watching the
// parent directories keep following the path.
import { dirname, resolve } from 'node:path';

export interface FileWatcher {
  set(files: string[]): void;
  close(): Promise<void>;
}

export async function watchFiles(onChange: (file: string) => void): Promise<FileWatcher> {
  const { watch } = await import('chokidar');
  let watched = new Set<string>();
  const watcher = watch([], { ignoreInitial: true, atomic: 100, depth: 0 });
  watcher.on('all', (_event, path) => {
    if (watched.has(resolve(path))) onChange(path);
  });
  return {
    set(files) {
      const next = new Set(files.map((f) => resolve(f)));
      const dirs = (set: Set<string>) => new Set([...set].map((f) => dirname(f)));
      const oldDirs = dirs(watched);
      const newDirs = dirs(next);
      watcher.unwatch([...oldDirs].filter((d) => !newDirs.has(d)));
      watcher.add([...newDirs].filter((d) => !oldDirs.has(d)));
      watched = next;
    },
    close: () => watcher.close(),
  };
}
