// Owns the single-writer lock of a state directory: `strand run` holds it; a second one fails at once
// naming the holder; a lock left by a process that no longer exists is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export type LockResult = { acquired: true; release: () => void; recovered?: LockHolder } | { acquired: false; holder: LockHolder };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

export function acquireStateLock(path: string, command: string, now: Date): LockResult {
  mkdirSync(dirname(path), { recursive: true });
  let recovered: LockHolder | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: now.toISOString(), command };
      writeSync(fd, JSON.stringify(holder));
      closeSync(fd);
      const release = (): void => {
        if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
      };
      return recovered ? { acquired: true, release, recovered } : { acquired: true, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      // A holder on another host cannot be probed: only a local dead pid (or an unreadable, torn lock) is stale.
      const stale = holder === undefined || (holder.host === hostname() && !isAlive(holder.pid));
      if (!stale) return { acquired: false, holder };
      recovered = holder;
      rmSync(path, { force: true });
    }
  }
  const holder = readHolder(path);
  return holder ? { acquired: false, holder } : { acquired: false, holder: { pid: -1, host: '?', startedAt: '?', command: '?' } };
}
