// Owns `strand watch FILE`: check, plan and run, then again whenever the workflow, its local inputs,
// models or plugins change; only steps whose cache keys changed run. Ctrl-C stops cleanly.
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { builtinSteps } from '../../../steps/index.js';
import { formatDiagnostics } from '../../diagnostics/format-diagnostic.js';
import { formatPlainEvent } from '../../events/plain-sink.js';
import { redact, type RunEvent } from '../../events/run-event.js';
import { planRun } from '../../plan/plan-run.js';
import { describeReason } from '../../plan/rerun-reason.js';
import { newRunId, openJournal } from '../../run/journal.js';
import { runWorkflow } from '../../run/run-workflow.js';
import { acquireStateLock } from '../../store/state-lock.js';
import { globFiles } from '../../util/glob-files.js';
import { watchFiles } from '../../watch/file-watcher.js';
import { WatchLoop } from '../../watch/watch-loop.js';
import { loadWorkflow } from '../../workflow/load-workflow.js';
import { pathParams } from '../../workflow/path-params.js';
import type { Workflow } from '../../workflow/workflow.js';
import { EXIT_FAILED, EXIT_OK, JOBS_FLAG, PARAM_FLAG, STATE_DIR_FLAG, type Command } from '../command.js';
import { listWorkflowObjects } from '../list-workflow-objects.js';
import { stateFor } from '../open-workflow.js';
import { keyValues, positiveInteger, UsageError } from '../parse-args.js';

export function watchedFiles(file: string, workflow: Workflow | undefined, workdir: string, recipeFiles: readonly string[]): string[] {
  const files = new Set([resolve(workdir, file), ...recipeFiles]);
  for (const step of workflow?.steps ?? []) {
    if (/^\.{1,2}\//.test(step.uses)) files.add(resolve(dirname(resolve(workdir, file)), step.uses));
    for (const p of pathParams(step)) if (p.direction === 'input') globFiles(p.path, workdir).forEach((f) => files.add(f));
  }
  return [...files];
}

export const watchCommand: Command = {
  name: 'watch',
  usage: 'strand watch FILE [--param NAME=VALUE] [--state-dir DIR] [--jobs N]',
  summary: 'Run, then re-run what changed whenever the workflow, its recipes or its local files change.',
  flags: [PARAM_FLAG, STATE_DIR_FLAG, JOBS_FLAG],
  async run(args, io) {
    const file = args.positionals[0];
    if (file === undefined) throw new UsageError('missing workflow FILE');
    const overrides = keyValues(args, 'param');
    const jobs = positiveInteger(args, 'jobs', availableParallelism());
    const state = stateFor(args, io);
    const lock = acquireStateLock(state.layout.lock, `strand watch ${file}`, new Date());
    if (!lock.acquired) {
      io.stderr(`error: state directory ${state.layout.root} is in use by pid ${lock.holder.pid} (${lock.holder.command})\nhint: stop that run, or use another --state-dir\n`);
      return EXIT_FAILED;
    }
    let texts = new Map<string, string>();
    let secrets: string[] = [];
    let recipeFiles: string[] = [];
    const print = (text: string): void => io.stdout(redact(text, secrets) + '\n');
    const watcher = await watchFiles((changed) => loop.changed(changed));
    const loop: WatchLoop = new WatchLoop({
      load: async () => {
        const loaded = await loadWorkflow(file, { builtins: builtinSteps, overrides, env: io.env, workdir: io.cwd });
        texts = loaded.texts;
        if (loaded.workflow) recipeFiles = [...loaded.recipes.values()].map((r) => r.file);
        if (loaded.workflow) secrets = loaded.workflow.secrets;
        // gs:// paths are listed on every load (a change to a local file re-reads their generations too).
        if (loaded.workflow && !(await listWorkflowObjects(loaded.workflow, state, io))) return { diagnostics: loaded.diagnostics, texts: loaded.texts, recipes: loaded.recipes };
        return loaded;
      },
      plan: (workflow) => planRun(workflow, state),
      run: async (workflow, signal, onStepStarted) => {
        const remote = workflow.steps.filter((s) => s.placement.on !== undefined && workflow.devices[s.placement.on]?.kind !== 'cpu');
        if (remote.length > 0) {
          print(`error: ${remote.map((s) => `step "${s.id}" is placed on ${s.placement.on}`).join(', ')}; watch runs on this machine only\nhint: use \`strand run\` for remote devices, or remove on: while iterating`);
          return 'failed';
        }
        const runId = newRunId(new Date(), process.pid);
        const journal = openJournal(state.layout.runs, runId);
        const emit = (event: RunEvent): void => {
          journal(redact(JSON.stringify(event), secrets));
          if (event.kind === 'step-started') onStepStarted(event.step, event.key);
          const text = formatPlainEvent(event);
          if (text !== undefined) print(text);
        };
        return runWorkflow({ workflow, state, emit, signal, jobs, now: () => new Date(), runId });
      },
      filesOf: (workflow) => watchedFiles(file, workflow, io.cwd, recipeFiles),
      watch: (files) => watcher.set(files),
      report: (message) => {
        switch (message.kind) {
          case 'change':
            return print(`changed: ${message.file}`);
          case 'invalid':
            return print(`${formatDiagnostics(message.diagnostics, (f) => texts.get(f))}\nkeeping the last good plan; fix the file to continue`);
          case 'plan': {
            const toRun = message.entries.filter((e) => e.decision.status === 'will-run');
            if (toRun.length === 0) return print('everything is up to date; watching for changes (Ctrl-C to stop)');
            return print(`will run: ${toRun.map((e) => `${e.step} (${e.decision.status === 'will-run' ? e.decision.reasons.map(describeReason).join('; ') : ''})`).join(', ')}`);
          }
          case 'stale':
            return print(`stopping ${message.steps.join(', ')}: changed while running (completed shards are kept)`);
          default: {
            const unreachable: never = message;
            throw new Error(`unknown report ${JSON.stringify(unreachable)}`);
          }
        }
      },
      setTimer: (ms, fire) => {
        const timer = setTimeout(fire, ms);
        return () => clearTimeout(timer);
      },
    });
    const stopped = new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        print('stopping…');
        void loop
          .close()
          .then(() => watcher.close())
          .then(done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await loop.start();
    await stopped;
    lock.release();
    return EXIT_OK;
  },
};
