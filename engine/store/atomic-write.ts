// Owns durable writes: a file appears under its final name only complete — written to a temporary
// name in the same directory (every partial write looped), fsynced, renamed, and the directory fsynced.
// A write that fails or is abandoned removes its temporary file and never touches the final name. Each
// write has an async twin, whose writes and fsyncs wait on the thread pool, not on the main thread.
import {
  close,
  closeSync,
  fsync,
  fsyncSync,
  mkdir,
  mkdirSync,
  open,
  openSync,
  rename,
  renameSync,
  rm,
  rmSync,
  write,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

function temporaryName(path: string): string {
  return join(dirname(path), `.tmp-${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

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
  const temporary = temporaryName(path);
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

// The async twins use fs's callback API: one request per step, without the promise API's FileHandle
// objects, which cost the main thread about twice as much per write.
function fsCall<T = void>(run: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

/** Runs `work` on the open file `fd`, then closes it. */
async function closing<T>(fd: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    await fsCall((done) => close(fd, done));
  }
}

/** Opens `path`, making its directory first if it is missing (found missing, not checked before each open). */
async function openMakingDirectory(path: string, flags: 'w' | 'a'): Promise<number> {
  try {
    return await fsCall<number>((done) => open(path, flags, done));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await fsCall<string | undefined>((done) => mkdir(dirname(path), { recursive: true }, done));
    return fsCall<number>((done) => open(path, flags, done));
  }
}

/** Writes all of `bytes` and fsyncs, looping over partial writes. */
async function writeAllDurably(fd: number, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;)
    written += await fsCall<number>((done) => write(fd, bytes, written, bytes.length - written, null, done));
  await fsCall((done) => fsync(fd, done));
}

/** writeFileAtomic with the writes and fsyncs off the main thread: `path` appears, complete and durable, when it resolves. */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const temporary = temporaryName(path);
  try {
    const fd = await openMakingDirectory(temporary, 'w');
    await closing(fd, () => writeAllDurably(fd, bytes));
    await fsCall((done) => rename(temporary, path, done));
  } catch (error) {
    await fsCall((done) => rm(temporary, { force: true }, done));
    throw error;
  }
  const dir = await fsCall<number>((done) => open(dirname(path), 'r', done));
  await closing(dir, () => fsCall((done) => fsync(dir, done)));
}

/** appendLineDurable off the main thread: the line is durable when it resolves. */
export async function appendLineDurableAsync(path: string, line: string): Promise<void> {
  const fd = await openMakingDirectory(path, 'a');
  await closing(fd, () => writeAllDurably(fd, Buffer.from(`${line}\n`)));
}
