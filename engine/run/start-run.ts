// Owns one run of a checked workflow, as `strand run` and `strand watch` start it: a run id, the
// journal, redaction of every event before any sink sees it, the view the command chose, and the
// remote executor for steps placed on a device. A journal that cannot be written stops the run.
import { resolve } from 'node:path';
import { cloudSettings } from '../cloud/cloud-settings.js';
import type { RemoteTarget } from '../cloud/remote-target.js';
import { combineSinks } from '../events/combine-sinks.js';
import { redactSink } from '../events/redact-sink.js';
import type { EmitRunEvent } from '../events/run-event.js';
import type { RunEventSink } from '../events/run-event-sink.js';
import { fail, ok, type Result } from '../util/result.js';
import type { StepPlacementPlan } from '../devices/step-placement-plan.js';
import type { StepSpec, Workflow } from '../workflow/workflow.js';
import type { HeldState } from './hold-state.js';
import { newRunId, openJournal } from './journal.js';
import { journalSink } from './journal-sink.js';
import { plannedSteps } from './planned-steps.js';
import { startResourceSampler } from './resource-sampler.js';
import { runWorkflow, type RemoteExecutor, type RemoteTrainerFor, type RemoteUnit, type RunStatus } from './run-workflow.js';

/** How often a run samples the engine's memory and CPU into its journal (and before each step's start and end). */
const RESOURCE_SAMPLE_MS = 500;

export interface StartRunOptions {
  /** The state directory, locked for this process. */
  held: HeldState;
  workflow: Workflow;
  /** Where loading placed each step: journaled as the run's `run-planned` event, for reports. */
  plans: ReadonlyMap<string, StepPlacementPlan>;
  /** Write the run's HTML report at the end (its path is shown as a `report-written` event). */
  report: boolean;
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
  let reportError: string | undefined;
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
    const sampler = startResourceSampler((event) => sink.onEvent(event), RESOURCE_SAMPLE_MS);
    const emit: EmitRunEvent = sampler.emit;
    // Cloud modules load only when a step runs remotely.
    const remoteParts = async (step: StepSpec, unit: RemoteUnit) => {
      const { cloudServices } = await import('../cloud/remote-services.js');
      const target = remote.get(step.id)!;
      return {
        step,
        ...unit,
        workflowName: workflow.name,
        target,
        objects: state.objects,
        workdir: state.workdir,
        listing: state.listing,
        fileDigest: (path: string) => state.files.digest(resolve(state.workdir, path)),
        services: cloudServices(target, cloudSettings(env), now),
        emit,
      };
    };
    const execute: RemoteExecutor = async (step, unit) => {
      const [{ runRemoteStep }, parts] = await Promise.all([import('../cloud/run-remote-step.js'), remoteParts(step, unit)]);
      return runRemoteStep(parts);
    };
    const trainer: RemoteTrainerFor = (step, unit) => async (job, paths, onEvent) => {
      const [{ remoteTrainer }, parts] = await Promise.all([import('../cloud/run-remote-training.js'), remoteParts(step, unit)]);
      return remoteTrainer(parts)(job, paths, onEvent);
    };
    const signal = AbortSignal.any([options.signal, journalStop.signal]);
    emit(plannedSteps(workflow, options.plans, now().toISOString()));
    try {
      status = await runWorkflow({
        workflow,
        state,
        emit,
        signal,
        jobs: options.jobs,
        now,
        runId,
        remote: { steps: new Set(remote.keys()), execute, trainer },
        placements: new Map([...options.plans].map(([id, plan]) => [id, plan.run])),
      });
    } finally {
      sampler.stop();
    }
    if (options.report) {
      const { DEFAULT_LEVEL, MAP_LIMIT, writeReport } = await import('../report/write-report.js');
      const written = await writeReport(state, { runId, level: DEFAULT_LEVEL, limit: MAP_LIMIT });
      if (written.ok) emit({ kind: 'report-written', path: written.value.path, time: now().toISOString() });
      else reportError = `error: no report: ${written.error}`;
    }
  } finally {
    await opened.close();
  }
  if (journalError !== undefined)
    return fail(
      `error: cannot write the run journal in ${state.layout.runs}: ${journalError.message}\nhint: free space (or use another --state-dir), then run again: completed work is kept`,
    );
  return reportError === undefined ? ok(status) : fail(reportError);
}
