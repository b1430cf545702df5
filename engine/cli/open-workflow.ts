// Owns the shared start of every command that takes a workflow file: load and check it with the
// built-in steps, print diagnostics (text or JSON), and open its state directory.
import { resolve } from 'node:path';
import { builtinSteps } from '../../steps/index.js';
import { formatDiagnostics } from '../diagnostics/format-diagnostic.js';
import { StrandState } from '../store/strand-state.js';
import { loadWorkflow } from '../workflow/load-workflow.js';
import type { Workflow } from '../workflow/workflow.js';
import type { LoadedRecipe } from '../recipes/recipe.js';
import type { CliIo } from './command.js';
import { listWorkflowObjects } from './list-workflow-objects.js';
import { flag, has, keyValues, UsageError, type ParsedArgs } from './parse-args.js';

export interface OpenedWorkflow {
  workflow: Workflow;
  state: StrandState;
  /** Recipes the workflow uses, by locked path. */
  recipes: Map<string, LoadedRecipe>;
}

export function stateFor(args: ParsedArgs, io: CliIo): StrandState {
  return new StrandState(resolve(io.cwd, flag(args, 'state-dir') ?? '.strand'), io.cwd);
}

/**
 * `listObjects`: also check credentials and list the workflow's gs:// paths (commands that plan or run;
 * `validate` stays offline).
 */
export async function openWorkflow(args: ParsedArgs, io: CliIo, options: { ignoreLock?: boolean; listObjects?: boolean } = {}): Promise<OpenedWorkflow | undefined> {
  const file = args.positionals[0];
  if (file === undefined) throw new UsageError('missing workflow FILE');
  const loaded = await loadWorkflow(file, { builtins: builtinSteps, overrides: keyValues(args, 'param'), env: io.env, workdir: io.cwd, ...(options.ignoreLock ? { ignoreLock: true } : {}) });
  if (loaded.workflow === undefined) {
    if (has(args, 'json')) io.stdout(JSON.stringify({ ok: false, diagnostics: loaded.diagnostics }, null, 2) + '\n');
    else io.stderr(formatDiagnostics(loaded.diagnostics, (f) => loaded.texts.get(f)) + '\n');
    return undefined;
  }
  if (loaded.diagnostics.length > 0 && !has(args, 'json')) io.stderr(formatDiagnostics(loaded.diagnostics, (f) => loaded.texts.get(f)) + '\n');
  const state = stateFor(args, io);
  if (options.listObjects && !(await listWorkflowObjects(loaded.workflow, state, io))) return undefined;
  return { workflow: loaded.workflow, state, recipes: loaded.recipes };
}
