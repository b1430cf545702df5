// Owns the shared start of every command that takes a workflow file: load and check it with the
// built-in steps (with the pre-flight compiler, for commands that plan or run), print diagnostics (text
// or JSON), and open its state directory.
import { resolve } from 'node:path';
import { builtinSteps } from '../../steps/index.js';
import { formatDiagnostics } from '../diagnostics/format-diagnostic.js';
import { StrandState } from '../store/strand-state.js';
import { gcsObjectFacts } from '../load/gcs-object-facts.js';
import { loadWorkflow, type CheckedWorkflow } from '../load/load-workflow.js';
import { localPreflightFacts } from '../load/preflight-facts.js';
import type { CliIo } from './command.js';
import { flag, has, keyValues, UsageError, type ParsedArgs } from './parse-args.js';

/** A checked workflow (its warnings printed already, unless the command prints JSON) and its state directory. */
export interface OpenedWorkflow extends CheckedWorkflow {
  state: StrandState;
  /** Pre-flight compiler processes started while loading (0 when every answer was cached). */
  compilerRuns: number;
}

export function stateFor(args: ParsedArgs, io: CliIo): StrandState {
  return new StrandState(resolve(io.cwd, flag(args, 'state-dir') ?? '.strand'), io.cwd);
}

/**
 * `listObjects`: loading also checks credentials and lists the workflow's gs:// paths (commands that plan
 * or run; `validate` stays offline), and the state is given the listing.
 */
export async function openWorkflow(
  args: ParsedArgs,
  io: CliIo,
  options: { ignoreLock?: boolean; listObjects?: boolean; preflight?: boolean } = {},
): Promise<OpenedWorkflow | undefined> {
  const file = args.positionals[0];
  if (file === undefined) throw new UsageError('missing workflow FILE');
  const state = stateFor(args, io);
  const preflight = options.preflight ? localPreflightFacts(state.layout.root, io.cwd, io.env) : undefined;
  const loaded = await loadWorkflow(file, {
    builtins: builtinSteps,
    overrides: keyValues(args, 'param'),
    env: io.env,
    workdir: io.cwd,
    ...(options.ignoreLock ? { ignoreLock: true } : {}),
    ...(options.listObjects ? { objects: gcsObjectFacts(io.env) } : {}),
    ...(preflight ? { preflight } : {}),
  });
  if (!loaded.ok) {
    const { diagnostics, texts } = loaded.error;
    if (has(args, 'json')) io.stdout(JSON.stringify({ ok: false, diagnostics }, null, 2) + '\n');
    else io.stderr(formatDiagnostics(diagnostics, (f) => texts.get(f)) + '\n');
    return undefined;
  }
  const checked = loaded.value;
  if (checked.diagnostics.length > 0 && !has(args, 'json'))
    io.stderr(formatDiagnostics(checked.diagnostics, (f) => checked.texts.get(f)) + '\n');
  state.listing = checked.listing;
  return { ...checked, state, compilerRuns: preflight?.compilerRuns ?? 0 };
}
