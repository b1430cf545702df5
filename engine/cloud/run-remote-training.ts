// Owns `ctx.train` for a step placed on a remote device (a plugin with `remoteTraining`): the trainer's job
// goes to the slice as one training job (worker-contract.ts TrainingJob) through the remote executor's state
// machine with the training job kind (training-progress.ts). The job's local paths stay here: the examples
// are staged by content, each complete checkpoint is fetched into the job's checkpoints folder and handed to
// the step as a `checkpoint` event (the step keeps it as its resumable state, as after a local checkpoint),
// and the outputs land in the job's out and tensorboard folders, as a local trainer leaves them.
import { readFileSync } from 'node:fs';
import type { JaxEvent } from '../jax/jax-process.js';
import type { StepTrainer } from '../jax/run-trainer.js';
import { StepError } from '../index.js';
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
    });
    await runRemoteJob({ ...parts, inputs: {} }, {}, progress);
    const summary: JaxEvent | undefined = progress.summaryLine;
    if (summary === undefined) throw new StepError(`${step.id}: the training job ended without its outputs`, 'a bug: report it');
    return summary;
  };
}
