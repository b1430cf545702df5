// Owns executing a checked workflow: steps start when their upstream steps are done, up to `jobs` at
// once; each is cached (verified) or run with checkpoints; a step counts as completed only once its
// record is committed after every output is durable. Emits RunEvents; knows nothing of terminals.
import { StepError } from '../plugin-api/step-error.js';
import type { ArtifactMeta } from '../plugin-api/step-context.js';
import type { RunPlacement } from '../plugin-api/run-placement.js';
import type { StepSummary } from '../plugin-api/step-plugin.js';
import type { EmitRunEvent } from '../events/run-event.js';
import type { StepTrainer } from '../jax/run-trainer.js';
import { decideStep } from '../plan/decide-step.js';
import { stepInputs } from '../plan/plan-run.js';
import type { StepRecord } from '../plan/step-record.js';
import { createDataAccess } from '../data/data-access.js';
import { isGcsUri } from '../data/object-snapshot.js';
import { CheckpointLog } from '../store/checkpoint-log.js';
import type { StrandState } from '../store/strand-state.js';
import type { Sha256Hex } from '../util/sha256.js';
import { showInvisible } from '../util/show-invisible.js';
import type { StepSpec, Workflow } from '../workflow/workflow.js';
import { createStepContext, localStepIo, manifestFromCheckpoints, StepInterrupted } from './step-context.js';

/** What a remote step runs with: its cache key, inputs, checkpoint log and the run's signal. */
export interface RemoteUnit {
  key: Sha256Hex;
  inputs: Record<string, Sha256Hex>;
  checkpoints: CheckpointLog;
  signal: AbortSignal;
}

/** Runs a shard-parallel step on a remote device, collecting its finished shards into `checkpoints` as they land. */
export type RemoteExecutor = (step: StepSpec, unit: RemoteUnit) => Promise<{ meta: Map<string, ArtifactMeta>; summary: StepSummary }>;

/** `ctx.train` for a `remoteTraining` step on a remote device: its run() runs here, its trainer on the device. */
export type RemoteTrainerFor = (step: StepSpec, unit: RemoteUnit) => StepTrainer;

export interface RunOptions {
  workflow: Workflow;
  state: StrandState;
  emit: EmitRunEvent;
  signal: AbortSignal;
  /** Steps running at once. */
  jobs: number;
  now: () => Date;
  runId: string;
  /** Steps placed on a remote device, and how to run them there. */
  remote?: { steps: ReadonlySet<string>; execute: RemoteExecutor; trainer?: RemoteTrainerFor };
  /** Where each step computes (`ctx.placement`); a step without one runs on the local CPU under onnxruntime. */
  placements?: ReadonlyMap<string, RunPlacement>;
}

export type RunStatus = 'ok' | 'failed' | 'interrupted';
type StepOutcome = { status: 'done'; outputs: Record<string, Sha256Hex> } | { status: 'failed' | 'interrupted' | 'blocked' };

function dependenciesOf(step: StepSpec): string[] {
  return [...new Set([...step.needs, ...Object.values(step.inputs).map((w) => w.step)])];
}

function remoteTrainerOf(options: RunOptions, step: StepSpec, unit: RemoteUnit): StepTrainer {
  const trainer = options.remote?.trainer;
  if (trainer === undefined) throw new Error(`bug: ${step.id} trains on a remote device, and the run has no remote trainer`);
  return trainer(step, unit);
}

export async function runWorkflow(options: RunOptions): Promise<RunStatus> {
  const { workflow, state, emit, signal, now } = options;
  const time = (): string => now().toISOString();
  const started = now().getTime();
  emit({
    kind: 'run-started',
    runId: options.runId,
    workflow: workflow.name,
    file: workflow.file,
    steps: workflow.steps.map((s) => s.id),
    time: time(),
  });

  const outcomes = new Map<string, StepOutcome>();
  const running = new Map<string, Promise<void>>();
  let stopLaunching = false as boolean; // set when an outcome settles
  const pending = [...workflow.steps];

  while (pending.length > 0 || running.size > 0) {
    for (let i = 0; i < pending.length && running.size < options.jobs && !stopLaunching && !signal.aborted;) {
      const step = pending[i]!;
      const deps = dependenciesOf(step);
      const blocker = deps.find((d) => {
        const s = outcomes.get(d)?.status;
        return s !== undefined && s !== 'done';
      });
      if (blocker !== undefined) {
        pending.splice(i, 1);
        outcomes.set(step.id, { status: 'blocked' });
        emit({ kind: 'step-blocked', step: step.id, by: blocker, time: time() });
        continue;
      }
      if (!deps.every((d) => outcomes.get(d)?.status === 'done')) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      const outputsOf = (id: string): Record<string, Sha256Hex> | undefined => {
        const o = outcomes.get(id);
        return o?.status === 'done' ? o.outputs : undefined;
      };
      const task = executeStep(step, outputsOf, options).then((outcome) => {
        outcomes.set(step.id, outcome);
        running.delete(step.id);
        if (outcome.status !== 'done') stopLaunching = true;
      });
      running.set(step.id, task);
    }
    if (running.size === 0) {
      for (const step of pending.splice(0)) {
        outcomes.set(step.id, { status: 'blocked' });
        const by = dependenciesOf(step).find((d) => outcomes.get(d)?.status !== 'done') ?? 'the stopped run';
        emit({ kind: 'step-blocked', step: step.id, by, time: time() });
      }
      break;
    }
    await Promise.race(running.values());
  }
  state.files.save();
  const statuses = [...outcomes.values()].map((o) => o.status);
  const status: RunStatus = statuses.includes('failed')
    ? 'failed'
    : signal.aborted || statuses.includes('interrupted')
      ? 'interrupted'
      : 'ok';
  emit({ kind: 'run-finished', status, durationMs: now().getTime() - started, time: time() });
  return status;
}

/** Hints for the operating-system errors a step meets most (a full disk, a read-only or forbidden path). */
function systemHint(error: NodeJS.ErrnoException): string | undefined {
  switch (error.code) {
    case 'ENOSPC':
      return 'the disk is full: free space (or move the state with --state-dir), then run again; completed shards are kept';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `no permission to write ${error.path ?? 'a file'}: check the path and its folder's permissions`;
    default:
      return undefined;
  }
}

async function executeStep(
  step: StepSpec,
  outputsOf: (id: string) => Record<string, Sha256Hex> | undefined,
  options: RunOptions,
): Promise<StepOutcome> {
  const { workflow, state, emit, now } = options;
  const time = (): string => now().toISOString();
  const inputs = stepInputs(step.inputs, outputsOf);
  if ('pendingOn' in inputs) throw new Error(`bug: ${step.id} started before ${inputs.pendingOn}`);
  const decision = decideStep(workflow, step, inputs, state);
  if (decision.status === 'cached') {
    emit({ kind: 'step-cached', step: step.id, key: decision.key, time: time() });
    return { status: 'done', outputs: decision.record.outputs };
  }
  const reasons = decision.reasons;
  const key = decision.key!;
  const fingerprint = decision.fingerprint!;
  const began = now().getTime();
  emit({ kind: 'step-started', step: step.id, key, reasons, time: time() });
  const checkpoints = new CheckpointLog(state.layout.checkpoints, key);
  const remote = options.remote?.steps.has(step.id) === true;
  const device = step.placement.on === undefined ? undefined : workflow.devices[step.placement.on];
  const workers = device === undefined || device.kind === 'cpu' ? step.placement.mesh?.data : 1;
  try {
    let summary: StepSummary;
    let meta: Map<string, ArtifactMeta>;
    const external: string[] = [];
    const unit: RemoteUnit = { key, inputs: inputs.known, checkpoints, signal: options.signal };
    if (remote && step.plugin.remoteTraining !== true) {
      ({ summary, meta } = await options.remote!.execute(step, unit));
    } else {
      const handle = createStepContext({
        step,
        io: localStepIo(state.objects, checkpoints, inputs.known),
        signal: options.signal,
        workdir: state.workdir,
        workers,
        data: createDataAccess(state.workdir, state.listing),
        ...(options.placements?.has(step.id) ? { placement: options.placements.get(step.id)! } : {}),
        fileDigest: (path) => state.files.digest(path),
        emit,
        now,
        ...(remote ? { trainer: remoteTrainerOf(options, step, unit) } : {}),
      });
      try {
        summary = (await step.plugin.run(handle.context)) ?? {};
      } catch (error) {
        await handle.finish().catch(() => undefined); // shards produced before the failure still count
        throw error;
      }
      await handle.finish();
      meta = handle.meta;
      external.push(...handle.external);
    }
    if (options.signal.aborted) throw new StepInterrupted();
    const outputs: Record<string, Sha256Hex> = {};
    for (const [port, spec] of Object.entries(step.plugin.outputs)) {
      outputs[port] = state.objects.putJson(manifestFromCheckpoints(spec.type, port, checkpoints, meta.get(port) ?? {}));
    }
    // A gs:// output is known by its listing (generations), taken now that the step wrote it.
    await state.listing?.refresh(external.filter(isGcsUri));
    const externalDigests = external.map((path) => {
      const digest = state.outputDigest(path);
      if (digest === undefined) throw new Error(`${step.plugin.id} recorded output ${path}, which does not exist`);
      return { path, digest };
    });
    const durationMs = now().getTime() - began;
    const record: StepRecord = {
      schema: 1,
      key,
      fingerprint,
      ...(decision.inputFiles !== undefined && Object.keys(decision.inputFiles).length > 0 ? { inputFiles: decision.inputFiles } : {}),
      outputs,
      external: externalDigests,
      summary,
      workflow: workflow.name,
      step: step.id,
      durationMs,
      finishedAt: time(),
    };
    state.commitRecord(record);
    checkpoints.remove();
    emit({
      kind: 'step-finished',
      step: step.id,
      key,
      durationMs,
      summary,
      outputs: Object.keys(outputs),
      external: externalDigests.map((e) => e.path),
      time: time(),
    });
    return { status: 'done', outputs };
  } catch (error) {
    if (error instanceof StepInterrupted || (options.signal.aborted && (error as Error).name === 'AbortError')) {
      emit({ kind: 'step-interrupted', step: step.id, time: time() });
      return { status: 'interrupted' };
    }
    const hint = error instanceof StepError ? error.hint : systemHint(error as NodeJS.ErrnoException);
    // Any object with a message (an Error from another realm too), else the thrown value itself.
    const thrown = (error as { message?: unknown } | null)?.message;
    // Messages quote input (a FASTA line, a column name): invisible characters in it are shown escaped.
    const message = showInvisible(typeof thrown === 'string' ? thrown : String(error));
    emit({ kind: 'step-failed', step: step.id, message, ...(hint !== undefined ? { hint: showInvisible(hint) } : {}), time: time() });
    return { status: 'failed' };
  }
}
