// Owns the local-disk side of DataAccess: the files a path or glob names, read by range, and outputs
// written through the atomic writer (complete under the final name, or absent).
import { open, readFile, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import type { DataFile, DataOutput } from '../plugin-api/step-context.js';
import { openAtomicFile, writeFileAtomic } from '../store/atomic-write.js';
import { globFiles } from '../util/glob-files.js';

export async function localDataFiles(pattern: string, workdir: string): Promise<DataFile[]> {
  return Promise.all(
    globFiles(pattern, workdir).map(async (path) => {
      const size = (await stat(path)).size;
      return {
        label: relative(workdir, path),
        size,
        read: async (start, end) => {
          const handle = await open(path, 'r');
          try {
            const bytes = new Uint8Array(Math.max(0, Math.min(end, size) - start));
            let at = 0;
            while (at < bytes.length) {
              const { bytesRead } = await handle.read(bytes, at, bytes.length - at, start + at);
              if (bytesRead === 0) break;
              at += bytesRead;
            }
            return bytes.subarray(0, at);
          } finally {
            await handle.close();
          }
        },
      } satisfies DataFile;
    }),
  );
}

export function localDataOutput(path: string): DataOutput {
  const file = openAtomicFile(path);
  return {
    write: async (bytes) => file.write(bytes),
    commit: async () => file.commit(),
    abort: () => file.abort(),
  };
}

export async function readLocalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function writeLocalText(path: string, text: string): void {
  writeFileAtomic(path, text);
}
