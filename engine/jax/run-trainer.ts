// Owns running the JAX LoRA trainer (`python -m strand_jax train-lora`, runtime/jax lora_trainer.py) as a
// local process for a step context's `train`: the job as a JSON file beside its examples, the trainer's
// JSON lines handed on in order, its train-summary returned. A step placed on a remote device trains there
// instead (engine/cloud/run-remote-training.ts), behind the same `StepTrainer` signature.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TrainerJob } from '../plugin-api/step-context.js';
import { runJaxProcess, trainLoraArgs, type JaxEvent } from './jax-process.js';

/** What `ctx.train` does: resolves with the trainer's train-summary line. */
export type StepTrainer = (job: TrainerJob, onEvent: (event: JaxEvent) => Promise<void>) => Promise<JaxEvent>;

/** The trainer as a local process on `hostDevices` XLA CPU devices (or the machine's accelerators when undefined). */
export function localTrainer(hostDevices: number | undefined, signal: AbortSignal, env: Record<string, string | undefined>): StepTrainer {
  return async (job, onEvent) => {
    const file = join(dirname(job.data), 'job.json');
    writeFileSync(file, JSON.stringify(job));
    return runJaxProcess(trainLoraArgs(file, hostDevices), hostDevices, { signal, env, summaryKind: 'train-summary', onEvent });
  };
}
