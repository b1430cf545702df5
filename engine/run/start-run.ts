// Owns one run of a checked workflow, as `strand run` and `strand watch` start it: a run id, the
// journal, redaction of every event before any sink sees it, the view the command chose, and the
// remote executor for steps placed on a device. A journal that cannot be written stops the run.
import { cloudSettings } from '../cloud/cloud-settings.js';
import type { RemoteTarget } from '../cloud/remote-target.js';
import { combineSinks } from '../events/combine-sinks.js';
import { redactSink } from '../events/redact-sink.js';
import type { EmitRunEvent } from '../events/run-event.js';
import type { RunEventSink } from '../events/run-event-sink.js';
import { fail, ok, type Result } from '../util/result.js';
import type { Workflow } from '../workflow/workflow.js';
import type { HeldState } from './hold-state.js';
import { newRunId, openJournal } from './journal.js';
import { journalSink } from './journal-sink.js';
import { runWorkflow, type RemoteExecutor, type RunStatus } from './run-workflow.js';

export interface StartRunOptions {
  /** The state directory, locked for this process. */
  held: HeldState;
  workflow: Workflow;
  /** Steps to run on a remote device (from `runnableRemoteTargets`). */
  remote: ReadonlyMap<string, RemoteTarget>;
  /** Where the run is shown. It receives redacted events and is closed when the run ends. */
  view: RunEventSink;
  signal: AbortSignal;
  /** Steps running at once. */
  jobs: number;
  env: Record<string, string | undefined>;
  now: () => Date;
}

/** The run's status, or why it could not be completed safely (the journal could not be written). */
export async function startRun(options: StartRunOptions): Promise<Result<RunStatus, string>> {
  const { held, workflow, remote, env, now } = options;
  const { state } = held;
  const journalStop = new AbortController();
  let journalError: Error | undefined;
  const runId = newRunId(now(), process.pid);
  // Until the journal is open, the view is all there is to close (opening it can fail: a read-only state).
  let opened = options.view;
  let status: RunStatus;
  try {
    const journal = journalSink(openJournal(state.layout.runs, runId), (error) => {
      journalError = error;
      journalStop.abort();
    });
    const sink = redactSink(workflow.secrets, combineSinks([journal, options.view]));
    opened = sink;
    const emit: EmitRunEvent = (event) => sink.onEvent(event);
    const execute: RemoteExecutor = async (step, unit) =>
      (await import('../cloud/run-remote-step.js')).runRemoteStep({ step, ...unit, workflowName: workflow.name, target: remote.get(step.id)!, objects: state.objects, workdir: state.workdir, settings: cloudSettings(env), emit, now });
    const signal = AbortSignal.any([options.signal, journalStop.signal]);
    status = await runWorkflow({ workflow, state, emit, signal, jobs: options.jobs, now, runId, remote: { steps: new Set(remote.keys()), execute } });
  } finally {
    await opened.close();
  }
  if (journalError !== undefined) return fail(`error: cannot write the run journal in ${state.layout.runs}: ${journalError.message}\nhint: free space (or use another --state-dir), then run again: completed work is kept`);
  return ok(status);
}
