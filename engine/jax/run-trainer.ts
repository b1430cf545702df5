// Owns running a train job (runtime/jax lora_trainer.py) as a local process for a step context's `train`:
// the job and its paths as one run file beside the examples, the trainer's JSON lines handed on in order,
// its train-summary returned. A step placed on a remote device trains there instead
// (engine/cloud/run-remote-training.ts), behind the same `StepTrainer` signature.
import { dirname, join } from 'node:path';
import type { TrainJob, TrainPaths } from './jax-job.js';
import { runJaxJob, type JaxEvent } from './jax-process.js';

/** What `ctx.train` does: resolves with the trainer's train-summary line. */
export type StepTrainer = (job: TrainJob, paths: TrainPaths, onEvent: (event: JaxEvent) => Promise<void>) => Promise<JaxEvent>;

/** The trainer as a local process on the devices the job's placement names. */
export function localTrainer(signal: AbortSignal, env: Record<string, string | undefined>): StepTrainer {
  return async (job, paths, onEvent) => runJaxJob({ job, paths }, join(dirname(paths.data), 'run.json'), { signal, env, onEvent });
}
