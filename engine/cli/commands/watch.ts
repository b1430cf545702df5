// Owns `strand watch FILE`: check, plan and run, then again whenever the workflow, its local inputs,
// models or plugins change (chokidar), or one of its gs:// inputs (polled: Cloud Storage sends no events);
// only steps whose cache keys changed run. Ctrl-C stops cleanly.
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { builtinSteps } from '../../../steps/index.js';
import { gcsObjectFacts } from '../../load/gcs-object-facts.js';
import { loadWorkflow, type CheckedWorkflow } from '../../load/load-workflow.js';
import { combineSinks } from '../../events/combine-sinks.js';
import type { RunEventSink } from '../../events/run-event-sink.js';
import { planRun } from '../../plan/plan-run.js';
import { holdState } from '../../run/hold-state.js';
import { runnableRemoteTargets } from '../../run/runnable-remote-targets.js';
import { startRun } from '../../run/start-run.js';
import { globFiles } from '../../util/glob-files.js';
import { cloudSettings } from '../../cloud/cloud-settings.js';
import type { GcsObjects } from '../../cloud/gcs-objects.js';
import { isGcsUri, ObjectSnapshot } from '../../data/object-snapshot.js';
import { watchFiles } from '../../watch/file-watcher.js';
import { ObjectPoller } from '../../watch/object-poller.js';
import { WatchLoop } from '../../watch/watch-loop.js';
import { pathParams, takesScheme } from '../../workflow/path-params.js';
import type { Workflow } from '../../workflow/workflow.js';
import { EXIT_FAILED, EXIT_OK, JOBS_FLAG, PARAM_FLAG, STATE_DIR_FLAG, type Command } from '../command.js';
import { stateFor } from '../open-workflow.js';
import { OUTPUT_FLAGS, outputMode } from '../output-mode.js';
import { watchOutput } from '../watch-output.js';
import { keyValues, positiveInteger, UsageError } from '../parse-args.js';

export function watchedFiles(file: string, workflow: Workflow | undefined, workdir: string, recipeFiles: readonly string[]): string[] {
  const files = new Set([resolve(workdir, file), ...recipeFiles]);
  for (const step of workflow?.steps ?? []) {
    if (/^\.{1,2}\//.test(step.uses)) files.add(resolve(dirname(resolve(workdir, file)), step.uses));
    for (const p of pathParams(step)) {
      if (p.direction !== 'input') continue;
      if (isGcsUri(p.path)) {
        if (takesScheme(p, 'gs')) files.add(p.path);
      } else globFiles(p.path, workdir).forEach((f) => files.add(f));
    }
  }
  return [...files];
}

const POLL_GCS_DEFAULT_S = 60;

export const watchCommand: Command = {
  usage: 'strand watch FILE [--param NAME=VALUE] [--state-dir DIR] [--jobs N] [--json | --plain] [--poll-gcs SECONDS]',
  flags: [
    PARAM_FLAG,
    STATE_DIR_FLAG,
    ...OUTPUT_FLAGS,
    JOBS_FLAG,
    {
      name: 'poll-gcs',
      value: 'SECONDS',
      description: `how often gs:// inputs are listed again to notice a changed object (default ${POLL_GCS_DEFAULT_S})`,
    },
  ],
  async run(args, io) {
    const file = args.positionals[0];
    if (file === undefined) throw new UsageError('missing workflow FILE');
    const overrides = keyValues(args, 'param');
    const jobs = positiveInteger(args, 'jobs', availableParallelism());
    const pollGcsMs = positiveInteger(args, 'poll-gcs', POLL_GCS_DEFAULT_S) * 1000;
    // No live view of watch yet: on a terminal it writes text, as with --plain.
    const format = outputMode(args, io) === 'json' ? 'json' : 'plain';
    const state = stateFor(args, io);
    const held = holdState(state, `strand watch ${file}`, new Date());
    if (!held.ok) {
      io.stderr(`${held.error}\n`);
      return EXIT_FAILED;
    }
    if (held.value.note !== undefined) io.stderr(`${held.value.note}\n`);
    let texts = new Map<string, string>();
    let secrets: string[] = [];
    const output = watchOutput({ format, write: io.stdout, secrets: () => secrets, textOf: (f) => texts.get(f) });
    const watcher = await watchFiles((changed) => loop.changed(changed));
    let objects: GcsObjects | undefined;
    const poller = new ObjectPoller(
      {
        digest: async (uri) => {
          // The Cloud Storage client loads only once a gs:// input is watched.
          const { GcsObjects } = await import('../../cloud/gcs-objects.js');
          const snapshot = new ObjectSnapshot((objects ??= new GcsObjects(cloudSettings(io.env))));
          await snapshot.refresh([uri]);
          return snapshot.digest(uri);
        },
        setTimer: (ms, fire) => {
          const timer = setTimeout(fire, ms);
          return () => clearTimeout(timer);
        },
        onChange: (uri) => loop.changed(uri),
        onError: (uri, error) => output.note(`could not list ${uri} (tried again in ${pollGcsMs / 1000} s): ${error.message}`),
      },
      pollGcsMs,
    );
    const loop: WatchLoop<CheckedWorkflow> = new WatchLoop<CheckedWorkflow>({
      load: async () => {
        // gs:// paths are listed on every load (a change to a local file re-reads their generations too).
        const loaded = await loadWorkflow(file, {
          builtins: builtinSteps,
          overrides,
          env: io.env,
          workdir: io.cwd,
          objects: gcsObjectFacts(io.env),
        });
        if (!loaded.ok) {
          texts = loaded.error.texts;
          return { diagnostics: loaded.error.diagnostics };
        }
        texts = loaded.value.texts;
        secrets = loaded.value.workflow.secrets;
        state.listing = loaded.value.listing;
        return { workflow: loaded.value, diagnostics: loaded.value.diagnostics };
      },
      plan: (checked) => planRun(checked.workflow, state),
      run: async (checked, signal, onStepStarted) => {
        const { workflow } = checked;
        const remote = runnableRemoteTargets(checked.remote);
        if (!remote.ok) {
          output.note(remote.error);
          return 'failed';
        }
        const keys: RunEventSink = {
          onEvent: (event) => {
            if (event.kind === 'step-started') onStepStarted(event.step, event.key);
          },
          close: async () => {},
        };
        const run = await startRun({
          held: held.value,
          workflow,
          plans: checked.plans,
          report: false,
          remote: remote.value,
          view: combineSinks([keys, output.sink]),
          signal,
          jobs,
          env: io.env,
          now: () => new Date(),
        });
        if (!run.ok) output.note(run.error);
        return run.ok ? run.value : 'failed';
      },
      filesOf: (checked) =>
        watchedFiles(
          file,
          checked?.workflow,
          io.cwd,
          [...(checked?.recipes.values() ?? [])].map((r) => r.file),
        ),
      watch: (files) => {
        watcher.set(files.filter((f) => !isGcsUri(f)));
        // Against the listing the last good load planned with.
        poller.set(new Map(files.filter(isGcsUri).map((uri) => [uri, state.listing?.digest(uri)])));
      },
      report: (message) => output.report(message),
      setTimer: (ms, fire) => {
        const timer = setTimeout(fire, ms);
        return () => clearTimeout(timer);
      },
    });
    const stopped = new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        output.note('stopping…');
        poller.close();
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
    held.value.release();
    return EXIT_OK;
  },
};
