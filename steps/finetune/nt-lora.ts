// Owns the `finetune/nt-lora` step: LoRA fine-tuning of a Nucleotide Transformer with the hierarchical
// taxonomy head, in the JAX runtime on the step's mesh (a train job: nt-lora-job.ts). This side does
// what taxonomy-head does with labels — lineage columns, placeholder masking, the split — and hands Python
// the examples as Arrow (id, tokens, split, label ids per level); Python trains, evaluates and checkpoints.
// Each Orbax checkpoint Python reports complete becomes the step's resumable state (a killed run resumes from
// it); `ctx.train` runs the trainer here, or on a TPU slice as one training job that resumes from its last
// complete checkpoint after a preemption (docs/tpu.md "Worker contract"); the outputs are the adapters (a peft folder), the head (ONNX + label maps, as taxonomy-head writes it,
// so classify/taxonomy reads it) and the metrics per evaluation.
import type { Table } from 'apache-arrow';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { arrow, defineStep, StepError, type JaxEvent, type StepContext } from '../../engine/index.js';
import { readText, readTokenLists, textColumn, tokenListColumn } from '../arrow-columns.js';
import type { TokenizerFacts } from '../tokenize/token-shards.js';
import { packDirectory, unpackDirectory } from './directory-bytes.js';
import { headLayout } from './head-model.js';
import { headModelTable, headToOnnx } from './head-onnx.js';
import { headParamsFromSafetensors } from './head-safetensors.js';
import { LABEL_PARAMS_SCHEMA, levelWeights } from './label-params.js';
import { LORA_TARGETS, NT_LORA_JAX_FACTS, ntLoraTrainJob, type NtLoraParams } from './nt-lora-job.js';
import { loraMetricsTable, type LoraEval, type LoraHistory } from './lora-metrics.js';
import { readLineage } from './read-lineage.js';
import { trainingSplit } from './split.js';
import { buildLabels, knownPaths } from './taxonomy-labels.js';
import { WANDB_PARAM_SCHEMA, wandbRunText } from './wandb-params.js';

/** The `adapters` artifact: one row, the peft folder packed (`directory-bytes.ts`) and what it adapts. */
export function adaptersTable(folder: string, meta: object): Table {
  return new arrow.Table({
    peft: arrow.vectorFromArray([packDirectory(folder)], new arrow.Binary()),
    meta: arrow.vectorFromArray([JSON.stringify(meta)], new arrow.Utf8()),
  });
}

async function readExamples(ctx: StepContext<NtLoraParams>) {
  const input = ctx.input('tokens');
  const ids: string[] = [];
  const rows: Int32Array[] = [];
  for (let i = 0; i < input.shardCount; i++) {
    const table = await input.readShard(i);
    ids.push(...readText(table, 'id'));
    rows.push(...readTokenLists(table, 'tokens'));
  }
  return { ids, rows, facts: input.meta as unknown as TokenizerFacts };
}

function examplesTable(
  ids: readonly string[],
  rows: readonly Int32Array[],
  val: ReadonlySet<number>,
  labels: readonly Int32Array[],
): Table {
  const perExample = ids.map((_, e) => Int32Array.from(labels, (l) => l[e]!));
  return new arrow.Table({
    id: textColumn(ids),
    tokens: tokenListColumn(rows),
    split: textColumn(ids.map((_, e) => (val.has(e) ? 'val' : 'train'))),
    labels: tokenListColumn(perExample),
  });
}

export const ntLora = defineStep<NtLoraParams>({
  id: 'finetune/nt-lora',
  version: '2', // 2: the metrics carry a row per optimizer step (training loss, lr, grad norm, tokens/s)
  description:
    'LoRA fine-tuning of a Nucleotide Transformer with a hierarchical taxonomy head, in JAX on a device mesh; exports peft adapters and the head.',
  with: {
    required: ['model'],
    properties: {
      model: {
        type: 'string',
        'x-strand-path': 'input',
        'x-strand-format': 'model',
        description: 'a Hugging Face NT folder (config.json + model.safetensors or pytorch_model.bin)',
      },
      ...LABEL_PARAMS_SCHEMA,
      rank: { type: 'integer', minimum: 1, default: 16, description: 'LoRA rank r' },
      alpha: { type: 'number', exclusiveMinimum: 0, default: 32, description: 'LoRA alpha (the update is scaled by alpha / r)' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1, description: "dropout on the adapters' input (seeded)" },
      target_modules: {
        type: 'array',
        items: { enum: [...LORA_TARGETS] },
        minItems: 1,
        uniqueItems: true,
        default: ['query', 'value'],
        description: 'projections that get an adapter: query, key, value, attention_output, intermediate, output (feed-forward)',
      },
      hidden: { type: 'integer', minimum: 0, default: 128, description: "the head's shared hidden layer width; 0 for linear classifiers" },
      learning_rate: { type: 'number', exclusiveMinimum: 0, default: 2e-4, description: 'peak learning rate (AdamW)' },
      weight_decay: { type: 'number', minimum: 0, default: 0.01 },
      warmup_steps: { type: 'integer', minimum: 0, default: 500, description: 'linear warmup from 0 to the peak' },
      schedule: {
        enum: ['cosine', 'linear', 'constant'],
        default: 'cosine',
        description: 'after warmup: cosine or linear decay to 0, or constant',
      },
      epochs: { type: 'integer', minimum: 1, default: 10 },
      steps: { type: 'integer', minimum: 1, description: 'optimizer steps (instead of epochs)' },
      batch_size: {
        type: 'integer',
        minimum: 1,
        default: 32,
        description:
          'examples per optimizer step (the global batch); each device takes batch_size / (data x fsdp x grad_accum), so the mesh regroups the same batches and is not in the cache key',
      },
      grad_accum: {
        type: 'integer',
        minimum: 1,
        default: 1,
        description: 'micro-batches per optimizer step (the batch is split into this many, for memory)',
      },
      remat: {
        enum: ['none', 'full', 'dots'],
        default: 'full',
        description: 'gradient checkpointing of each layer: full recomputes it, dots keeps matmul outputs, none keeps everything',
      },
      eval_every: { type: 'integer', minimum: 1, description: 'steps between evaluations (default: once per epoch, and at the end)' },
      checkpoint_every_steps: { type: 'integer', minimum: 1, default: 500, description: 'steps between checkpoints (execution setting)' },
      checkpoint_every_minutes: {
        type: 'number',
        exclusiveMinimum: 0,
        default: 30,
        description: 'also checkpoint when this long has passed since the last one (execution setting)',
      },
      adapters_path: {
        type: 'string',
        'x-strand-path': 'output',
        description: 'also write the peft adapter folder here (adapter_config.json + adapter_model.safetensors)',
      },
      tensorboard: {
        type: 'string',
        'x-strand-path': 'output',
        description:
          'write TensorBoard event files here as it trains (tensorboard --logdir PATH); on a TPU slice they arrive when the job ends',
      },
      ...WANDB_PARAM_SCHEMA,
    },
  },
  execution: ['checkpoint_every_steps', 'checkpoint_every_minutes', 'tensorboard', 'wandb'],
  runtimes: ['jax'],
  remoteTraining: true,
  inputs: { tokens: { type: 'tokens' }, labels: { type: 'sequences', description: 'the source, for its lineage columns' } },
  outputs: { adapters: { type: 'adapters' }, model: { type: 'model' }, metrics: { type: 'metrics' } },
  jax: NT_LORA_JAX_FACTS,
  async run(ctx) {
    const p = ctx.params;
    const { levels, weights } = levelWeights(p);
    const seed = p.seed;
    const { ids, rows, facts } = await readExamples(ctx);
    const columns = await readLineage(ctx.input('labels'), ids, levels);
    const labels = buildLabels(levels, columns, p.keep_placeholders);
    const groupBy = p.group_by;
    const split = trainingSplit(ids, columns, levels, groupBy, p.val_fraction, seed);
    const placement = ctx.placement;
    const scratch = mkdtempSync(join(tmpdir(), 'strand-lora-'));
    try {
      writeFileSync(join(scratch, 'examples.arrow'), arrow.tableToIPC(examplesTable(ids, rows, new Set(split.val), labels.labels), 'file'));
      const saved = ctx.state.load();
      if (saved !== undefined) {
        const [first] = unpackDirectory(saved, join(scratch, 'resume'));
        ctx.log(`resuming from the checkpoint at step ${first?.split('/')[0] ?? '?'}`);
      }
      const hidden = p.hidden;
      const job = ntLoraTrainJob(p, { levels, classes: labels.classes }, facts, placement);
      const paths = {
        model: ctx.resolvePath(p.model),
        data: join(scratch, 'examples.arrow'),
        out: join(scratch, 'out'),
        checkpoints: join(scratch, 'checkpoints'),
        tensorboard: p.tensorboard !== undefined ? ctx.resolvePath(p.tensorboard) : join(scratch, 'tensorboard'),
        ...(saved !== undefined ? { resume: join(scratch, 'resume') } : {}),
        ...(p.wandb !== undefined ? { wandb: ctx.resolvePath(p.wandb.dir) } : {}),
      };
      const evals: LoraEval[] = [];
      const summary = await ctx
        .train(job, paths, async (event: JaxEvent) => onTrainerEvent(ctx, event, evals))
        .catch((error: unknown) => {
          if ((error as Error).name === 'AbortError') return undefined;
          throw error;
        });
      if (summary === undefined) return { steps: evals.at(-1)?.step ?? 0 }; // stopped by ctx.signal: the run ends interrupted

      const out = join(scratch, 'out');
      const history = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as LoraHistory;
      const config = JSON.parse(readFileSync(ctx.resolvePath(join(p.model, 'config.json')), 'utf8')) as { hidden_size: number };
      const layout = headLayout({ dim: config.hidden_size, hidden, classes: labels.classes.map((c) => Math.max(1, c.length)) });
      const head = headParamsFromSafetensors(readFileSync(join(out, 'head.safetensors')), layout);
      const meta = {
        levels,
        classes: labels.classes,
        paths: knownPaths(labels.labels, split.train),
        dim: config.hidden_size,
        hidden,
        weights,
        split: { val_fraction: p.val_fraction, group_by: groupBy, seed },
        adapters: { rank: job.settings.lora.rank, alpha: job.settings.lora.alpha, targets: job.settings.lora.targets },
      };
      const adapterMeta = { kind: 'peft-lora', model: p.model, model_digest: ctx.fileDigest(p.model), ...job.settings.lora };
      await ctx.output('adapters').shard(0, async () => adaptersTable(join(out, 'adapters'), adapterMeta));
      ctx.output('adapters').setMeta(adapterMeta);
      await ctx.output('model').shard(0, async () => headModelTable(headToOnnx(layout, head, levels), meta));
      ctx.output('model').setMeta({ kind: 'taxonomy-head', levels, dim: config.hidden_size, adapters: adapterMeta });
      await ctx.output('metrics').shard(0, async () => loraMetricsTable(history));
      if (p.adapters_path !== undefined) {
        const target = ctx.resolvePath(p.adapters_path);
        const staging = join(dirname(target), `.tmp-${basename(target)}`);
        rmSync(staging, { recursive: true, force: true });
        cpSync(join(out, 'adapters'), staging, { recursive: true });
        rmSync(target, { recursive: true, force: true });
        mkdirSync(dirname(target), { recursive: true });
        cpSync(staging, target, { recursive: true });
        rmSync(staging, { recursive: true, force: true });
        ctx.recordExternalOutput(p.adapters_path);
      }
      if (p.wandb !== undefined && typeof summary.wandb === 'string')
        ctx.log(wandbRunText(p.wandb.mode, join(paths.wandb!, summary.wandb)));
      const last = history.evals.at(-1);
      const genus = last?.levels.find((l) => l.level === 'genus');
      return {
        runtime: 'jax',
        train: split.train.length,
        val: split.val.length,
        steps: Number(summary.steps),
        global_batch: Number(summary.global_batch),
        trainable_parameters: Number(summary.trainable_parameters),
        loss_first: Number(Number(summary.loss_first).toFixed(4)),
        loss_last: Number(Number(summary.loss_last).toFixed(4)),
        mesh: `${placement.mesh.data}x${placement.mesh.fsdp}x${placement.mesh.tp}`,
        ...(genus ? { val_genus_accuracy: Number(genus.accuracy.toFixed(4)) } : {}),
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
});

async function onTrainerEvent(ctx: StepContext<NtLoraParams>, event: JaxEvent, evals: LoraEval[]): Promise<void> {
  if (event.kind === 'train-progress') {
    ctx.progress({
      done: Number(event.step),
      total: Number(event.total),
      unit: 'steps',
      counters: { tokens: Number(event.tokens) },
      values: { loss: Number(event.loss) },
      // The trainer's own: its steps' time, without the compile (or, on a slice, the node's boot).
      ...(typeof event.eta_seconds === 'number' ? { etaSeconds: event.eta_seconds } : {}),
    });
  } else if (event.kind === 'eval') {
    const evaluation = event as unknown as LoraEval;
    evals.push(evaluation);
    const parts = evaluation.levels.map((l) => `${l.level} ${(100 * l.accuracy).toFixed(1)}%`);
    ctx.log(`step ${evaluation.step}: loss ${evaluation.levels.map((l) => l.loss?.toFixed(3) ?? '-').join('/')}; ${parts.join(', ')}`);
  } else if (event.kind === 'checkpoint') {
    // Orbax renamed the folder into place once whole: only now is it a checkpoint to keep.
    const dir = String(event.dir);
    ctx.state.save(packDirectory(dir, dirname(dir)));
    ctx.log(`checkpoint at step ${String(event.step)}`);
    for (const older of readdirNumbers(dirname(dir)))
      if (older < Number(event.step)) rmSync(join(dirname(dir), String(older)), { recursive: true, force: true });
  } else if (event.kind === undefined) {
    throw new StepError('the JAX runtime printed a line without a kind', 'a bug: report it');
  }
}

function readdirNumbers(dir: string): number[] {
  return readdirSync(dir)
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}
