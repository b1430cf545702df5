// Owns run journals: one JSON-lines file per run under <state>/runs/, appended as events happen,
// and reading them back for `strand runs` and tests.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../events/run-event.js';

export function journalPath(runsDir: string, runId: string): string {
  return join(runsDir, `${runId}.jsonl`);
}

export function openJournal(runsDir: string, runId: string): (line: string) => void {
  mkdirSync(runsDir, { recursive: true });
  const path = journalPath(runsDir, runId);
  return (line) => appendFileSync(path, `${line}\n`);
}

export function readJournal(path: string): RunEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as RunEvent];
      } catch {
        return []; // the torn last line of a killed run
      }
    });
}

/** Run ids, oldest first (ids start with their start time). */
export function listRuns(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((n) => n.endsWith('.jsonl'))
    .map((n) => n.slice(0, -'.jsonl'.length))
    .sort();
}

export function newRunId(now: Date, pid: number): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace('.', '-')}-${pid}`;
}
