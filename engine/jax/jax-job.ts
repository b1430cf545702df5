// Owns the one JAX job as the engine types it (runtime/jax/src/strand_jax/jax_job.schema.json): what a
// step placed on JAX asks the runtime to compute — the model, only the settings that change the numbers,
// and the resolved placement — the same value for a local process and for every host of a TPU slice,
// checked against the schema before it is written. The step plugin builds it (`StepPlugin.jax`); the
// placement part is translated here, once, from the step's resolved placement.
import type { Mesh } from '../devices/estimate-placement.js';
import type { RunPlacement } from '../plugin-api/run-placement.js';
import { checkRuntimeValue } from './runtime-schema.js';

export interface JaxPlacement {
  /** What JAX must find: a job placed on a tpu or gpu stops before loading anything when JAX sees only the CPU. */
  platform: 'cpu' | 'tpu' | 'gpu';
  hosts: number;
  /** kind: cpu: the XLA host devices the CPU is split into; null elsewhere. */
  host_devices: number | null;
  /** The whole mesh over every host; each host runs data / hosts of it on its own devices. */
  mesh: Mesh;
  per_device_batch: number;
  precision: 'fp32' | 'bf16';
}

export interface EmbedJob {
  kind: 'embed';
  /** The model folder as the workflow names it (a local path or a gs:// folder). */
  model: string;
  pooling: 'mean' | 'cls' | 'max';
  include_cls: boolean;
  prefix: number;
  normalize: boolean;
  pad_id: number;
  /** The last length bucket: the tokenizer's max_tokens, so a shard's padding does not depend on the others. */
  max_length: number | null;
  /** Whether peft LoRA adapters are applied to the encoder. */
  adapters: boolean;
  placement: JaxPlacement;
}

/** The settings the train step is built from; the pre-flight's train-step program takes the same object. */
export interface TrainSettings {
  weights: number[];
  hidden: number;
  lora: { rank: number; alpha: number; dropout: number; targets: string[] };
  train: {
    learning_rate: number;
    weight_decay: number;
    warmup_steps: number;
    schedule: string;
    grad_accum: number;
    remat: string;
    seed: number;
  };
}

/** A W&B run a training job logs to (jax_job.schema.json WandbSettings); the API key is never in it. */
export interface WandbSettings {
  project: string;
  entity: string | null;
  name: string | null;
  mode: 'online' | 'offline';
}

export interface TrainJob {
  kind: 'train';
  /** The model folder as the workflow names it (recorded in adapter_config.json). */
  base_model: string;
  levels: string[];
  classes: string[][];
  include_cls: boolean;
  prefix: number;
  max_length: number | null;
  settings: TrainSettings;
  length: { steps: number } | { epochs: number };
  eval_every: number | null;
  checkpoint_every_steps: number | null;
  checkpoint_every_minutes: number;
  placement: JaxPlacement;
  /** Log each step's and evaluation's metrics, with the run's config, to W&B from the trainer. */
  wandb?: WandbSettings;
}

export type JaxJob = EmbedJob | TrainJob;

/** Where an embed job's files are on the machine that runs it. */
export interface EmbedPaths {
  model: string;
  adapters?: string;
  /** Token shard files (Arrow IPC); vector shard i is written to OUT/<name of tokens[i]>. */
  tokens: string[];
  out: string;
}

/** Where a train job's files are on the machine that runs it. */
export interface TrainPaths {
  model: string;
  /** The examples, Arrow IPC (id, tokens, split, labels). */
  data: string;
  out: string;
  checkpoints: string;
  tensorboard: string;
  /** A folder holding the checkpoint to resume from (STEP/ under it). */
  resume?: string;
  /** The folder W&B writes its wandb/ run folders under, when the job has wandb. */
  wandb?: string;
}

/** The file `python -m strand_jax run` reads. */
export type LocalRun = { job: EmbedJob; paths: EmbedPaths } | { job: TrainJob; paths: TrainPaths };

/** The job's placement: the step's resolved placement, in the runtime's terms. */
export function jaxPlacement(run: RunPlacement): JaxPlacement {
  return {
    platform: run.kind,
    hosts: run.hosts,
    host_devices: run.hostDevices ?? null,
    mesh: run.mesh,
    per_device_batch: run.perDeviceBatch,
    precision: run.precision,
  };
}

/** A job the engine built, checked before anything is written: a mismatch with the schema is a bug. */
export function checkedJaxValue<T extends JaxJob | LocalRun>(kind: 'JaxJob' | 'LocalRun', value: T): T {
  const checked = checkRuntimeValue<T>('jaxJob', kind, value);
  if (!checked.ok) throw new Error(`bug: the engine built an invalid JAX job: ${checked.error}`);
  return checked.value;
}
