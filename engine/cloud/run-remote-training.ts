// Owns `ctx.train` for a step placed on a remote device (a plugin with `remoteTraining`): the trainer's job
// goes to the slice as the job spec's job (worker-contract.ts JobSpec.job, TrainingJob) through the remote executor's state
// machine with the training job kind (training-progress.ts). The job's local paths stay here: the examples
// are staged by content, each complete checkpoint is fetched into the job's checkpoints folder and handed to
// the step as a `checkpoint` event (the step keeps it as its resumable state, as after a local checkpoint),
// and the outputs land in the job's out, tensorboard (and wandb) folders, as a local trainer leaves them.
// Between checkpoints, the primary host's last train step reaches the step as the trainer's train-progress line
// (not every step: the host writes its progress object at most once per poll interval).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { JaxEvent } from '../jax/jax-process.js';
import type { StepTrainer } from '../jax/run-trainer.js';
import type { TrainJob, TrainPaths } from '../jax/jax-job.js';
import { StepError } from '../plugin-api/step-error.js';
import { StepInterrupted } from '../run/step-context.js';
import { runRemoteJob, type RemoteStepParts } from './run-remote-step.js';
import { TrainingProgress } from './training-progress.js';

export function remoteTrainer(parts: Omit<RemoteStepParts, 'inputs' | 'job'>): StepTrainer {
  return async (job, paths, onEvent) => {
    const { step, key, services, emit } = parts;
    const progress = new TrainingProgress({
      stepId: step.id,
      key,
      bucket: services.bucket,
      emit,
      time: () => services.clock.now().toISOString(),
      data: readFileSync(paths.data),
      checkpoints: paths.checkpoints,
      out: paths.out,
      tensorboard: paths.tensorboard,
      ...(paths.wandb !== undefined ? { wandb: paths.wandb } : {}),
      checkpointMinutes: job.checkpoint_every_minutes,
      onCheckpoint: (at, dir) => onEvent({ kind: 'checkpoint', step: at, dir }),
      onTrainStep: onEvent,
      ...localCheckpoint(job, paths),
    });
    await runRemoteJob({ ...parts, inputs: {}, job }, {}, progress).catch((error: unknown) => {
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
function localCheckpoint(job: TrainJob, paths: TrainPaths): { local?: { step: number; folder: string; total: number } } {
  if (paths.resume === undefined || !existsSync(paths.resume)) return {};
  const step = Number(readdirSync(paths.resume).find((name) => /^\d+$/.test(name)));
  if (!Number.isInteger(step) || step < 1) return {};
  // The marker's total is informational (progress); the trainer counts its own steps when it resumes.
  const total = 'steps' in job.length ? job.length.steps : step;
  return { local: { step, folder: paths.resume, total } };
}
