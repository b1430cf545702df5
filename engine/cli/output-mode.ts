// Owns the output options `run`, `watch` and `plan` share, so they take the same flags and mean the same:
// --json (machine-readable), --plain (text even on a terminal), else the live view on a terminal.
import { JSON_FLAG, PLAIN_FLAG, type CliIo } from './command.js';
import { has, UsageError, type FlagSpec, type ParsedArgs } from './parse-args.js';

export const OUTPUT_FLAGS: readonly FlagSpec[] = [JSON_FLAG, PLAIN_FLAG];

/** `live`: an interactive view (only on a terminal, outside CI, without --plain or --json). */
export type OutputMode = 'json' | 'plain' | 'live';

export function outputMode(args: ParsedArgs, io: Pick<CliIo, 'isTTY'>): OutputMode {
  if (has(args, 'json') && has(args, 'plain')) throw new UsageError('--json and --plain cannot be given together');
  if (has(args, 'json')) return 'json';
  return io.isTTY && !has(args, 'plain') ? 'live' : 'plain';
}
