// Owns `ctx.train` for a step placed on a remote device (a plugin with `remoteTraining`): the trainer's job
// goes to the slice as one training job (worker-contract.ts TrainingJob) through the remote executor's state
// machine with the training job kind (training-progress.ts). The job's local paths stay here: the examples
// are staged by content, each complete checkpoint is fetched into the job's checkpoints folder and handed to
// the step as a `checkpoint` event (the step keeps it as its resumable state, as after a local checkpoint),
// and the outputs land in the job's out and tensorboard folders, as a local trainer leaves them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { JaxEvent } from '../jax/jax-process.js';
import type { StepTrainer } from '../jax/run-trainer.js';
import { StepError } from '../plugin-api/step-error.js';
import { StepInterrupted } from '../run/step-context.js';
import { runRemoteJob, type RemoteStepParts } from './run-remote-step.js';
import { TrainingProgress } from './training-progress.js';

/** The job's keys that are paths on this machine: the host sets its own. */
const LOCAL_PATHS = ['model', 'data', 'out', 'checkpoints', 'tensorboard', 'resume'] as const;

export function remoteTrainer(parts: Omit<RemoteStepParts, 'inputs'>): StepTrainer {
  return async (job, onEvent) => {
    const { step, key, services, emit } = parts;
    const trainer = Object.fromEntries(Object.entries(job).filter(([k]) => !(LOCAL_PATHS as readonly string[]).includes(k)));
    const progress = new TrainingProgress({
      stepId: step.id,
      key,
      bucket: services.bucket,
      emit,
      time: () => services.clock.now().toISOString(),
      trainer,
      data: readFileSync(job.data),
      checkpoints: job.checkpoints,
      out: job.out,
      tensorboard: job.tensorboard,
      checkpointMinutes: job.checkpoint_every_minutes,
      onCheckpoint: (at, dir) => onEvent({ kind: 'checkpoint', step: at, dir }),
      ...localCheckpoint(job),
    });
    await runRemoteJob({ ...parts, inputs: {} }, {}, progress).catch((error: unknown) => {
      // A stopped run rejects as a local trainer does (ctx.train's contract): checkpoints collected so far stand.
      if (error instanceof StepInterrupted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
      throw error;
    });
    const summary: JaxEvent | undefined = progress.summaryLine;
    if (summary === undefined) throw new StepError(`${step.id}: the training job ended without its outputs`, 'a bug: report it');
    return summary;
  };
}

/** The checkpoint the step resumes from (`resume`: a folder holding STEP/…), handed over with its step. */
function localCheckpoint(job: Parameters<StepTrainer>[0]): { local?: { step: number; folder: string; total: number } } {
  if (job.resume === undefined || !existsSync(job.resume)) return {};
  const step = Number(readdirSync(job.resume).find((name) => /^\d+$/.test(name)));
  if (!Number.isInteger(step) || step < 1) return {};
  // The marker's total is informational (progress); the trainer counts its own steps when it resumes.
  const steps = (job.train as { steps?: unknown } | undefined)?.steps;
  const total = typeof steps === 'number' ? steps : step;
  return { local: { step, folder: job.resume, total } };
}
