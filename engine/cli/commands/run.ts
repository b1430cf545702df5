// Owns `strand run FILE`: hold the state lock, run the workflow, write the journal, print events
// (plain lines or JSON lines), and stop gracefully on the first Ctrl-C, at once on the second.
import { availableParallelism } from 'node:os';
import { formatPlainEvent } from '../../events/plain-sink.js';
import { redact, type RunEvent } from '../../events/run-event.js';
import { newRunId, openJournal } from '../../run/journal.js';
import { builtinSteps } from '../../../steps/index.js';
import { cloudSettings } from '../../cloud/cloud-settings.js';
import { resolveRemoteTargets } from '../../cloud/remote-target.js';
import { placeWorkflow } from '../../devices/place-workflow.js';
import { runWorkflow, type RemoteExecutor } from '../../run/run-workflow.js';
import { placeOptions } from '../../workflow/load-workflow.js';
import { acquireStateLock } from '../../store/state-lock.js';
import type { LoadedRecipe } from '../../recipes/recipe.js';
import { readLock, writeLock } from '../../recipes/recipe-lock.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, JOBS_FLAG, JSON_FLAG, PARAM_FLAG, PLAIN_FLAG, STATE_DIR_FLAG, type Command } from '../command.js';
import { openWorkflow } from '../open-workflow.js';
import { has, positiveInteger } from '../parse-args.js';

/** A recipe run for the first time is pinned in strand.lock, as npm pins a new dependency. */
function pinNewRecipes(recipes: Map<string, LoadedRecipe>, workdir: string): void {
  if (recipes.size === 0) return;
  const read = readLock(workdir);
  // Loading read the same lock and stopped on an invalid one: this is a lock that changed since.
  if (!read.ok) throw new Error(`${read.error.message} (it changed while the workflow was loading)`);
  const lock = read.value;
  const fresh = [...recipes].filter(([path]) => lock.recipes[path] === undefined);
  if (fresh.length === 0) return;
  for (const [path, recipe] of fresh) lock.recipes[path] = recipe.digest;
  writeLock(workdir, lock);
}

export const runCommand: Command = {
  name: 'run',
  usage: 'strand run FILE [--param NAME=VALUE] [--state-dir DIR] [--jobs N] [--json | --plain]',
  summary: 'Run the steps that are not cached; resume interrupted steps from their last completed shard.',
  flags: [PARAM_FLAG, STATE_DIR_FLAG, JSON_FLAG, PLAIN_FLAG, JOBS_FLAG],
  async run(args, io) {
    const opened = await openWorkflow(args, io, { listObjects: true });
    if (opened === undefined) return EXIT_FAILED;
    const { workflow, state } = opened;
    const { plans } = placeWorkflow(workflow, undefined, placeOptions(io.cwd));
    const remote = resolveRemoteTargets(workflow, plans, builtinSteps);
    if (remote.problems.length > 0) {
      io.stderr(remote.problems.map((p) => `error: ${p}\n`).join('') + 'hint: `strand plan` shows every step\'s placement; nothing was started\n');
      return EXIT_FAILED;
    }
    pinNewRecipes(opened.recipes, io.cwd);
    const jobs = positiveInteger(args, 'jobs', availableParallelism());
    const lock = acquireStateLock(state.layout.lock, `strand run ${workflow.file}`, new Date());
    if (!lock.acquired) {
      const h = lock.holder;
      io.stderr(`error: state directory ${state.layout.root} is in use by pid ${h.pid} on ${h.host} (${h.command}, started ${h.startedAt})\nhint: wait for that run to finish, stop it, or use another --state-dir\n`);
      return EXIT_FAILED;
    }
    if (lock.recovered) io.stderr(`note: recovered a lock left by pid ${lock.recovered.pid} (no longer running)\n`);
    const runId = newRunId(new Date(), process.pid);
    const journal = openJournal(state.layout.runs, runId);
    const json = has(args, 'json');
    const screen = io.isTTY && !json && !has(args, 'plain') ? (await import('../../tui/show-run.js')).showRun() : undefined;
    const controller = new AbortController();
    let journalError: Error | undefined;
    const emit = (event: RunEvent): void => {
      const line = redact(JSON.stringify(event), workflow.secrets);
      try {
        journal(line);
      } catch (error) {
        // Without a journal (a full disk, say) the run cannot be followed or resumed safely: stop it.
        journalError ??= error as Error;
        controller.abort();
      }
      if (json) io.stdout(line + '\n');
      else if (screen) screen.emit(JSON.parse(line) as RunEvent);
      else {
        const text = formatPlainEvent(event);
        if (text !== undefined) io.stdout(redact(text, workflow.secrets) + '\n');
      }
    };
    let interrupts = 0;
    const onSignal = (): void => {
      interrupts++;
      if (interrupts === 1) {
        io.stderr('stopping after the current shards (press Ctrl-C again to stop at once)\n');
        controller.abort();
      } else {
        lock.release();
        process.exit(EXIT_INTERRUPTED);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const execute: RemoteExecutor = async (step, unit) =>
        (await import('../../cloud/run-remote-step.js')).runRemoteStep({ step, ...unit, workflowName: workflow.name, target: remote.targets.get(step.id)!, objects: state.objects, workdir: state.workdir, settings: cloudSettings(io.env), emit, now: () => new Date() });
      const status = await runWorkflow({ workflow, state, emit, signal: controller.signal, jobs, now: () => new Date(), runId, remote: { steps: new Set(remote.targets.keys()), execute } });
      if (journalError !== undefined) {
        io.stderr(`error: cannot write the run journal in ${state.layout.runs}: ${journalError.message}\nhint: free space (or use another --state-dir), then run again: completed work is kept\n`);
        return EXIT_FAILED;
      }
      return status === 'ok' ? EXIT_OK : status === 'interrupted' ? EXIT_INTERRUPTED : EXIT_FAILED;
    } finally {
      await screen?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      lock.release();
    }
  },
};
