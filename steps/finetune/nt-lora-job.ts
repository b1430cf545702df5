// Owns finetune/nt-lora's params and its JAX facts (`StepPlugin.jax`): the train job it hands the runtime
// (runtime/jax lora_trainer.py) — the labels, the settings the train step is built from, how long to train,
// and the resolved placement — and the pre-flight's view of the same settings. The same job runs in a local
// process or on a TPU slice; only the paths are each machine's.
import { jaxPlacement, StepError, type JaxFacts, type RunPlacement, type TrainJob, type TrainSettings } from '../../engine/index.js';
import type { TokenizerFacts } from '../tokenize/token-shards.js';
import { levelWeights, type LabelParams } from './label-params.js';
import { wandbSettings, type WandbParams } from './wandb-params.js';

export const LORA_TARGETS = ['query', 'key', 'value', 'attention_output', 'intermediate', 'output'] as const;

/** As the step receives them: every param with a schema default is filled in. */
export interface NtLoraParams extends LabelParams {
  model: string;
  rank: number;
  alpha: number;
  dropout: number;
  target_modules: (typeof LORA_TARGETS)[number][];
  hidden: number;
  learning_rate: number;
  weight_decay: number;
  warmup_steps: number;
  schedule: 'cosine' | 'linear' | 'constant';
  epochs: number;
  steps?: number;
  batch_size: number;
  grad_accum: number;
  remat: 'none' | 'full' | 'dots';
  eval_every?: number;
  checkpoint_every_steps: number;
  checkpoint_every_minutes: number;
  adapters_path?: string;
  tensorboard?: string;
  wandb?: WandbParams;
}

/** The train job for the examples' labels (`levels`, the class names of each), on `placement`. */
export function ntLoraTrainJob(
  p: NtLoraParams,
  labels: { levels: string[]; classes: string[][] },
  facts: TokenizerFacts,
  placement: RunPlacement,
): TrainJob {
  const settings = ntLoraSettings(p);
  return {
    kind: 'train',
    base_model: p.model,
    levels: labels.levels,
    classes: labels.classes,
    include_cls: true,
    prefix: facts.prefix,
    max_length: facts.max_tokens,
    settings,
    length: p.steps !== undefined ? { steps: p.steps } : { epochs: p.epochs },
    eval_every: p.eval_every ?? null,
    checkpoint_every_steps: p.checkpoint_every_steps,
    checkpoint_every_minutes: p.checkpoint_every_minutes,
    // The resolved placement's per-device batch is this step's own (NT_LORA_JAX_FACTS.preflight, below).
    placement: jaxPlacement(placement),
    ...(p.wandb !== undefined ? { wandb: wandbSettings(p.wandb) } : {}),
  };
}

/** The settings the train step is built from (jax_job.schema.json TrainSettings), which the pre-flight's
 * train-step program takes as its options. */
function ntLoraSettings(p: NtLoraParams): TrainSettings {
  return {
    weights: levelWeights(p).weights,
    hidden: p.hidden,
    lora: { rank: p.rank, alpha: p.alpha, dropout: p.dropout, targets: p.target_modules },
    train: {
      learning_rate: p.learning_rate,
      weight_decay: p.weight_decay,
      warmup_steps: p.warmup_steps,
      schedule: p.schedule,
      grad_accum: p.grad_accum,
      remat: p.remat,
      seed: p.seed,
    },
  };
}

/** batch_size / (data x fsdp x grad_accum): refused when it does not divide, naming the sizes that would. */
function perDeviceBatchOf(batchSize: number, mesh: { data: number; fsdp: number }, gradAccum: number): number {
  const ways = mesh.data * mesh.fsdp * gradAccum;
  if (batchSize % ways !== 0)
    throw new StepError(
      `batch_size ${batchSize} does not split over data ${mesh.data} x fsdp ${mesh.fsdp} x grad_accum ${gradAccum} = ${ways}`,
      `use a multiple of ${ways} (e.g. ${Math.max(1, Math.round(batchSize / ways)) * ways}), or another mesh or grad_accum`,
    );
  return batchSize / ways;
}

export const NT_LORA_JAX_FACTS: JaxFacts<NtLoraParams> = {
  program: 'train-step',
  preflight: (p, mesh) => ({ options: ntLoraSettings(p), perDeviceBatch: perDeviceBatchOf(p.batch_size, mesh, p.grad_accum) }),
};
