// Owns the shape of a CLI command and what it may touch: its flags (for parsing, --help and docs/cli.md)
// and the process edges it is given (output streams, working directory, environment).
import type { FlagSpec, ParsedArgs } from './parse-args.js';

export interface CliIo {
  stdout: (text: string) => void;
  /**
   * Resolves once stdout has taken what was written, where it holds it back (a pipe whose reader is slower
   * than the writer: `strand plan --json | jq`), so a command writing 100 MB in pieces keeps one piece in
   * memory, not all of them. Absent where output is not held back (tests).
   */
  drain?: () => Promise<void>;
  stderr: (text: string) => void;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Both stdin and stdout are a terminal, outside CI: interactive views are possible. */
  isTTY: boolean;
}

/** What a command does: its flags and its action. Its module is loaded only when it runs (see CommandEntry). */
export interface Command {
  usage: string;
  flags: FlagSpec[];
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** A row of the command table: what `strand --help` lists, without loading the command's module. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export const STATE_DIR_FLAG: FlagSpec = { name: 'state-dir', value: 'DIR', description: 'state directory (default .strand)' };
export const PARAM_FLAG: FlagSpec = {
  name: 'param',
  value: 'NAME=VALUE',
  repeatable: true,
  description: 'override a workflow param (repeatable)',
};
export const JSON_FLAG: FlagSpec = { name: 'json', description: 'machine-readable JSON output' };
export const JOBS_FLAG: FlagSpec = { name: 'jobs', value: 'N', description: 'steps running at once (default: CPU cores)' };
export const PLAIN_FLAG: FlagSpec = { name: 'plain', description: 'plain text even on a terminal' };
