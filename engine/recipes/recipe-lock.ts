// Owns strand.lock: the content digest of every recipe a project's workflows use, so a recipe that
// changed since it was locked is noticed before it runs. Updated by `strand lock --update`; `strand run`
// adds recipes it has not seen. A lock that is present but unreadable, merge-conflicted or malformed is
// an error at its file and line, never an empty lock: run would otherwise rewrite it and accept every
// changed recipe silently.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { fail, ok, type Result } from '../util/result.js';

export interface RecipeLock {
  version: 1;
  /** Recipe path (relative to the project) -> SHA-256 of its bytes. */
  recipes: Record<string, string>;
}

export const LOCK_FILE = 'strand.lock';

export function lockPath(workdir: string): string {
  return join(workdir, LOCK_FILE);
}

/** Parses the text of a lock file; `file` names it in diagnostics. Pure. */
export function parseLock(text: string, file: string): Result<RecipeLock, Diagnostic> {
  const at = (line: number, column = 1, length = 1) => ({ file, line, column, length });
  const hint = 'fix the file, or delete it and run `strand lock FILE` for each workflow that uses recipes';
  const lines = text.split('\n');
  const conflict = lines.findIndex((line) => /^(<{7}|={7}|>{7})( |$)/.test(line));
  if (conflict >= 0) {
    return fail(
      errorAt(
        'lock-invalid',
        at(conflict + 1, 1, 7),
        `${file} has merge-conflict markers`,
        'resolve the conflict (keep the digests of the recipes you reviewed), then run `strand lock --update FILE`',
      ),
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    const offset = position ? Number(position[1]) : 0;
    const before = text.slice(0, offset).split('\n');
    return fail(
      errorAt('lock-invalid', at(before.length, before.at(-1)!.length + 1), `${file} is not valid JSON: ${(error as Error).message}`, hint),
    );
  }
  const recipes = (value as { recipes?: unknown } | null)?.recipes;
  const valid =
    (value as { version?: unknown } | null)?.version === 1 &&
    typeof recipes === 'object' &&
    recipes !== null &&
    !Array.isArray(recipes) &&
    Object.values(recipes).every((digest) => typeof digest === 'string' && /^[0-9a-f]{64}$/.test(digest));
  if (!valid)
    return fail(errorAt('lock-invalid', at(1), `${file} is not a strand.lock: expected {"version": 1, "recipes": {PATH: SHA-256}}`, hint));
  return ok({ version: 1, recipes: { ...(recipes as Record<string, string>) } });
}

/** Reads the project's lock: absent is an empty lock; present but unreadable or invalid is an error. */
export function readLock(workdir: string): Result<RecipeLock, Diagnostic> {
  let text: string;
  try {
    text = readFileSync(lockPath(workdir), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ok({ version: 1, recipes: {} });
    return fail(
      errorAt(
        'lock-invalid',
        { file: LOCK_FILE, line: 1, column: 1, length: 1 },
        `cannot read ${LOCK_FILE}: ${code ?? (error as Error).message}`,
        'check the file permissions',
      ),
    );
  }
  return parseLock(text, LOCK_FILE);
}

export function writeLock(workdir: string, lock: RecipeLock): void {
  const sorted = Object.fromEntries(Object.entries(lock.recipes).sort(([a], [b]) => a.localeCompare(b)));
  writeFileAtomic(lockPath(workdir), JSON.stringify({ version: 1, recipes: sorted }, null, 2) + '\n');
}
