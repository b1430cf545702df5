// Owns durable writes: a file appears under its final name only complete — written to a temporary
// name in the same directory (every partial write looped), fsynced, renamed, and the directory fsynced.
// A write that fails or is abandoned removes its temporary file and never touches the final name.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file being written: `write` as often as needed, then `commit` (or `abort` to leave nothing). */
export interface AtomicFile {
  write(bytes: Uint8Array | string): void;
  /** fsync, rename to the final name, fsync the directory. */
  commit(): void;
  /** Drop the temporary file; the final name is untouched. Safe after a failed write or commit. */
  abort(): void;
}

export function openAtomicFile(path: string): AtomicFile {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temporary = join(dir, `.tmp-${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number | undefined = openSync(temporary, 'w');
  const release = (): void => {
    if (fd === undefined) return;
    const open = fd;
    fd = undefined;
    closeSync(open);
  };
  return {
    write(data) {
      if (fd === undefined) throw new Error(`${path}: write after commit or abort`);
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    },
    commit() {
      if (fd === undefined) throw new Error(`${path}: commit after commit or abort`);
      fsyncSync(fd);
      release();
      renameSync(temporary, path);
      fsyncDirectory(dir);
    },
    abort() {
      try {
        release();
      } finally {
        rmSync(temporary, { force: true });
      }
    },
  };
}

/** Writes `data` to `path` atomically. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const file = openAtomicFile(path);
  try {
    file.write(data);
    file.commit();
  } catch (error) {
    file.abort();
    throw error;
  }
}

/** Appends one line and fsyncs: a checkpoint is durable once this returns. */
export function appendLineDurable(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a');
  try {
    const bytes = Buffer.from(`${line}\n`);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
