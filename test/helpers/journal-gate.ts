// Kill points for tests that stop the built CLI mid-run: a module preloaded into the CLI process
// (`node --import`) watches the run journal's appends and, at the first line matching a given event,
// signals its own process, just before that line is written or just after. A SIGKILL lands exactly
// there; nothing else in the CLI changes. Used where the step that is stopped is a built-in, which the
// gated plugin (gated-plugin.ts) cannot hold back: a kill between a shard's durable checkpoint and its
// journal line, or right after a training checkpoint.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunEvent } from '../../engine/events/run-event.js';

/** Fields the journal line must have (kind, step, unit, message...); the first line with all of them is the point. */
export type EventMatch = { kind: RunEvent['kind'] } & Record<string, string | number>;

export interface KillPoint {
  at: EventMatch;
  /** `before`: the line is not written (what was durable before it stays); `after`: it is written first. */
  when: 'before' | 'after';
  signal: 'SIGKILL' | 'SIGINT';
}

function gateSource(point: KillPoint): string {
  return `import fs from 'node:fs';
import { sep } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
const point = ${JSON.stringify(point)};
const append = fs.appendFileSync;
let armed = true;
const matches = (data) => {
  let event;
  try { event = JSON.parse(String(data)); } catch { return false; }
  return Object.entries(point.at).every(([k, v]) => event[k] === v);
};
fs.appendFileSync = function (path, data, ...rest) {
  const journal = typeof path === 'string' && path.includes(sep + 'runs' + sep) && path.endsWith('.jsonl');
  if (!armed || !journal || !matches(data)) return append.call(this, path, data, ...rest);
  armed = false;
  if (point.when === 'before') process.kill(process.pid, point.signal);
  const result = append.call(this, path, data, ...rest);
  if (point.when === 'after') process.kill(process.pid, point.signal);
  return result;
};
syncBuiltinESMExports();
`;
}

/**
 * Writes the gate for `point` into the project and returns the environment that preloads it into a CLI
 * started there (pass it to startCli / runCli).
 */
export function killAt(root: string, point: KillPoint): Record<string, string> {
  const path = join(root, '.kill-point.mjs');
  writeFileSync(path, gateSource(point));
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(path).href}`.trim() };
}

/** Whether `event` is the one `match` describes. */
export function isEvent(event: RunEvent, match: EventMatch): boolean {
  return Object.entries(match).every(([k, v]) => (event as unknown as Record<string, unknown>)[k] === v);
}
