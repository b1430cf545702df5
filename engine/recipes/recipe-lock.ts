// Owns strand.lock: the content digest of every recipe a project's workflows use, so a recipe that
// changed since it was locked is noticed before it runs. Updated by `strand lock --update`; `strand run`
// adds recipes it has not seen.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-write.js';

export interface RecipeLock {
  version: 1;
  /** Recipe path (relative to the project) -> SHA-256 of its bytes. */
  recipes: Record<string, string>;
}

export function lockPath(workdir: string): string {
  return join(workdir, 'strand.lock');
}

export function readLock(workdir: string): RecipeLock {
  try {
    const lock = JSON.parse(readFileSync(lockPath(workdir), 'utf8')) as RecipeLock;
    return { version: 1, recipes: lock.recipes ?? {} };
  } catch {
    return { version: 1, recipes: {} };
  }
}

export function writeLock(workdir: string, lock: RecipeLock): void {
  const sorted = Object.fromEntries(Object.entries(lock.recipes).sort(([a], [b]) => a.localeCompare(b)));
  writeFileAtomic(lockPath(workdir), JSON.stringify({ version: 1, recipes: sorted }, null, 2) + '\n');
}
