// Owns `strand run FILE`: pin new recipes, hold the state directory, start the run with the view the
// flags and terminal call for (plain lines, JSON lines or the live view), and stop gracefully on the
// first Ctrl-C, at once on the second.
import { availableParallelism } from 'node:os';
import { jsonLinesSink } from '../../events/json-lines-sink.js';
import { plainSink } from '../../events/plain-sink.js';
import type { RunEventSink } from '../../events/run-event-sink.js';
import type { LoadedRecipe } from '../../recipes/recipe.js';
import { readLock, writeLock } from '../../recipes/recipe-lock.js';
import { holdState } from '../../run/hold-state.js';
import { runnableRemoteTargets } from '../../run/runnable-remote-targets.js';
import { startRun } from '../../run/start-run.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, JOBS_FLAG, PARAM_FLAG, STATE_DIR_FLAG, type CliIo, type Command } from '../command.js';
import { openWorkflow } from '../open-workflow.js';
import { OUTPUT_FLAGS, outputMode, type OutputMode } from '../output-mode.js';
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

async function chooseView(mode: OutputMode, io: CliIo): Promise<RunEventSink> {
  switch (mode) {
    case 'json':
      return jsonLinesSink(io.stdout);
    case 'live':
      return (await import('../../tui/show-run.js')).showRun();
    case 'plain':
      return plainSink(io.stdout);
    default: {
      const unreachable: never = mode;
      throw new Error(`unknown output mode ${String(unreachable)}`);
    }
  }
}

export const runCommand: Command = {
  usage: 'strand run FILE [--param NAME=VALUE] [--state-dir DIR] [--jobs N] [--json | --plain] [--report]',
  flags: [
    PARAM_FLAG,
    STATE_DIR_FLAG,
    ...OUTPUT_FLAGS,
    JOBS_FLAG,
    { name: 'report', description: "write the run's HTML report at the end (as `strand report`)" },
  ],
  async run(args, io) {
    const mode = outputMode(args, io);
    const opened = await openWorkflow(args, io, { listObjects: true, preflight: true });
    if (opened === undefined) return EXIT_FAILED;
    const { workflow, state } = opened;
    const remote = runnableRemoteTargets(opened.remote);
    if (!remote.ok) {
      io.stderr(`${remote.error}\n`);
      return EXIT_FAILED;
    }
    pinNewRecipes(opened.recipes, io.cwd);
    const jobs = positiveInteger(args, 'jobs', availableParallelism());
    const held = holdState(state, `strand run ${workflow.file}`, new Date());
    if (!held.ok) {
      io.stderr(`${held.error}\n`);
      return EXIT_FAILED;
    }
    if (held.value.note !== undefined) io.stderr(`${held.value.note}\n`);
    const view = await chooseView(mode, io);
    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = (): void => {
      interrupts++;
      if (interrupts === 1) {
        io.stderr('stopping after the current shards (press Ctrl-C again to stop at once)\n');
        controller.abort();
      } else {
        held.value.release();
        process.exit(EXIT_INTERRUPTED);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const run = await startRun({
        held: held.value,
        workflow,
        plans: opened.plans,
        report: has(args, 'report'),
        remote: remote.value,
        view,
        signal: controller.signal,
        jobs,
        env: io.env,
        now: () => new Date(),
      });
      if (!run.ok) {
        io.stderr(`${run.error}\n`);
        return EXIT_FAILED;
      }
      return run.value === 'ok' ? EXIT_OK : run.value === 'interrupted' ? EXIT_INTERRUPTED : EXIT_FAILED;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      held.value.release();
    }
  },
};
