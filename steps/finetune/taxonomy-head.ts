// Owns the `finetune/taxonomy-head` step: train one classifier per taxonomic level (optionally over a
// shared hidden layer) on embeddings, with a weighted cross-entropy, AdamW, linear warmup and cosine
// decay; checkpoint every N steps and resume bit for bit; report per-level accuracy and macro-F1 per
// epoch (and a 1-NN baseline on the same split); output the head as ONNX with its label maps. With `wandb:`,
// the same metrics (loss and learning rate each step, the evaluations each epoch) go to a W&B run.
import { defineStep, arrow, startWandbLog, type StepContext, writeFileAtomic } from '../../engine/index.js';
import { readAllVectors } from '../arrow-columns.js';
import { accuracyAndMacroF1 } from './classification-metrics.js';
import { adamwStep, decayMask, forward, headLayout, initParams, learningRate, lossAndGradients, nonzeroIndices } from './head-model.js';
import { headModelTable, headToOnnx } from './head-onnx.js';
import { nearestNeighbours } from './nearest-neighbour.js';
import { readLineage } from './read-lineage.js';
import { trainingSplit } from './split.js';
import { LABEL_PARAMS_SCHEMA, levelWeights, type LabelParams } from './label-params.js';
import { buildLabels, knownPaths } from './taxonomy-labels.js';
import { decodeTrainingState, encodeTrainingState } from './training-state.js';
import { seededRandom, seededShuffle } from '../seeded-random.js';
import { WANDB_PARAM_SCHEMA, wandbRunText, wandbSettings, type WandbParams } from './wandb-params.js';

export interface HeadParams extends LabelParams {
  hidden: number;
  epochs: number;
  batch_size: number;
  lr: number;
  weight_decay: number;
  warmup_steps?: number;
  checkpoint_every: number;
  baseline: boolean;
  model_path?: string;
  metrics_path?: string;
  wandb?: WandbParams;
}

export interface MetricRow {
  epoch: number;
  model: 'head' | '1-nn';
  level: string;
  loss: number | null;
  /** The learning rate of the epoch's last step (warmup, then cosine decay); null for the 1-NN baseline. */
  lr: number | null;
  accuracy: number;
  macro_f1: number;
  examples: number;
}

interface Header {
  lossSum: number;
  lossCount: number;
  metrics: MetricRow[];
}

async function readAll(ctx: StepContext<HeadParams>, levels: readonly string[]) {
  const { ids, flat: x, dim } = await readAllVectors(ctx.input('embeddings'));
  return { ids, x, dim, columns: await readLineage(ctx.input('labels'), ids, levels) };
}

export const taxonomyHead = defineStep<HeadParams>({
  id: 'finetune/taxonomy-head',
  version: '2', // 2: the metrics carry the learning rate (`lr`)
  description: 'Train a hierarchical taxonomy head (one classifier per level) on embeddings; export it as ONNX.',
  with: {
    properties: {
      ...LABEL_PARAMS_SCHEMA,
      hidden: { type: 'integer', minimum: 0, default: 128, description: 'shared hidden layer width; 0 for linear classifiers' },
      epochs: { type: 'integer', minimum: 1, default: 20 },
      batch_size: { type: 'integer', minimum: 1, default: 64 },
      lr: { type: 'number', exclusiveMinimum: 0, default: 0.01, description: 'peak learning rate' },
      weight_decay: { type: 'number', minimum: 0, default: 0.01 },
      warmup_steps: { type: 'integer', minimum: 0, description: 'linear warmup steps (default: 10% of all steps), then cosine decay' },
      checkpoint_every: { type: 'integer', minimum: 1, default: 50, description: 'steps between checkpoints (execution setting)' },
      baseline: { type: 'boolean', default: true, description: 'also score a 1-nearest-neighbour baseline on the same split' },
      model_path: { type: 'string', 'x-strand-path': 'output', description: 'also write the head as an ONNX file (labels beside it)' },
      metrics_path: { type: 'string', 'x-strand-path': 'output', description: 'also write the metrics as JSON' },
      ...WANDB_PARAM_SCHEMA,
    },
  },
  execution: ['checkpoint_every', 'wandb'],
  inputs: { embeddings: { type: 'embeddings' }, labels: { type: 'sequences', description: 'the source, for its lineage columns' } },
  outputs: { model: { type: 'model' }, metrics: { type: 'metrics' } },
  async run(ctx) {
    const p = ctx.params;
    const { levels, weights } = levelWeights(p);
    const seed = p.seed;
    const { ids, x, dim, columns } = await readAll(ctx, levels);
    const labels = buildLabels(levels, columns, p.keep_placeholders);
    const groupBy = p.group_by;
    const { train, val } = trainingSplit(ids, columns, levels, groupBy, p.val_fraction, seed);

    const layout = headLayout({ dim, hidden: p.hidden, classes: labels.classes.map((c) => Math.max(1, c.length)) });
    const batchSize = p.batch_size;
    const stepsPerEpoch = Math.ceil(train.length / batchSize);
    const epochs = p.epochs;
    const total = stepsPerEpoch * epochs;
    const warmup = p.warmup_steps ?? Math.ceil(total / 10);
    const decay = decayMask(layout);
    const restored = ctx.state.load();
    const state = restored
      ? decodeTrainingState<Header>(restored)
      : {
          step: 0,
          header: { lossSum: 0, lossCount: 0, metrics: [] as MetricRow[] },
          params: initParams(layout, seededRandom(seed)),
          m: new Float64Array(layout.size),
          v: new Float64Array(layout.size),
        };
    if (restored) ctx.log(`resuming training from step ${state.step} of ${total}`);
    const adam = { step: state.step, m: state.m, v: state.v };
    const grads = new Float64Array(layout.size);
    const nonzero = nonzeroIndices(x, dim, ids.length);
    const evaluate = (epoch: number, lr: number): MetricRow[] => {
      const predicted = levels.map(() => new Int32Array(val.length));
      val.forEach((e, i) =>
        forward(layout, state.params, x, e * dim, nonzero[e]).probs.forEach((pr, l) => (predicted[l]![i] = argmax(pr))),
      );
      return levels.map((level, l) => {
        const m = accuracyAndMacroF1(
          predicted[l]!,
          val.map((e) => labels.labels[l]![e]!),
          labels.classes[l]!.length,
        );
        return {
          epoch,
          model: 'head' as const,
          level,
          loss: state.header.lossSum / Math.max(1, state.header.lossCount),
          lr,
          accuracy: m.accuracy,
          macro_f1: m.macroF1,
          examples: m.count,
        };
      });
    };
    const wandb =
      p.wandb === undefined
        ? undefined
        : await startWandbLog({
            settings: wandbSettings(p.wandb),
            config: {
              model: 'taxonomy-head',
              dim,
              hidden: layout.shape.hidden,
              levels,
              batch_size: batchSize,
              learning_rate: p.lr,
              weight_decay: p.weight_decay,
              warmup_steps: warmup,
              epochs,
              steps: total,
              seed,
            },
            dir: ctx.resolvePath(p.wandb.dir),
            signal: ctx.signal,
            env: process.env,
          });
    // A resumed run's W&B run gets the evaluations so far first (each attempt's run is whole but for the per-step rows).
    for (const rows of groupByEpoch(state.header.metrics)) wandb?.log(rows[0]!.epoch * stepsPerEpoch, evalValues(rows));
    let perm: number[] = [];
    let permEpoch = -1;
    while (state.step < total) {
      const epoch = Math.floor(state.step / stepsPerEpoch);
      if (epoch !== permEpoch) {
        perm = seededShuffle(train, seed * 1000 + epoch);
        permEpoch = epoch;
      }
      const within = state.step % stepsPerEpoch;
      const batch = perm.slice(within * batchSize, (within + 1) * batchSize);
      const loss = lossAndGradients(layout, state.params, x, labels.labels, batch, weights, grads, nonzero);
      const lr = learningRate(state.step + 1, p.lr, warmup, total);
      adamwStep(state.params, grads, adam, lr, p.weight_decay, decay);
      state.step++;
      state.header.lossSum += loss;
      state.header.lossCount++;
      const row: Record<string, number> = { 'train/loss': loss, 'train/lr': lr };
      if (state.step % stepsPerEpoch === 0) {
        const rows = evaluate(epoch + 1, lr);
        Object.assign(row, evalValues(rows));
        state.header.metrics.push(...rows);
        state.header.lossSum = 0;
        state.header.lossCount = 0;
        ctx.log(
          `epoch ${epoch + 1}/${epochs}: loss ${rows[0]!.loss!.toFixed(4)}; ${rows.map((r) => `${r.level} ${(100 * r.accuracy).toFixed(1)}%`).join(', ')}`,
        );
      }
      wandb?.log(state.step, row);
      ctx.progress({ done: state.step, total, unit: 'steps', counters: { examples: state.step * batchSize } });
      if (state.step % p.checkpoint_every === 0 || state.step === total || ctx.signal.aborted) {
        ctx.state.save(encodeTrainingState({ ...state, m: adam.m, v: adam.v }));
        ctx.log(`checkpoint at step ${state.step}`);
      }
      if (ctx.signal.aborted) return;
    }

    const metrics = [...state.header.metrics];
    if (p.baseline) {
      const nn = nearestNeighbours({ flat: x, dim, rows: val }, { flat: x, dim, rows: train });
      levels.forEach((level, l) => {
        const m = accuracyAndMacroF1(
          nn.map((n) => labels.labels[l]![n.index]!),
          val.map((e) => labels.labels[l]![e]!),
          labels.classes[l]!.length,
        );
        metrics.push({
          epoch: epochs,
          model: '1-nn',
          level,
          loss: null,
          lr: null,
          accuracy: m.accuracy,
          macro_f1: m.macroF1,
          examples: m.count,
        });
      });
    }
    if (wandb !== undefined) {
      const baseline = metrics.filter((m) => m.model === '1-nn');
      if (baseline.length > 0) wandb.log(total, Object.fromEntries(baseline.map((m) => [`baseline_1nn/accuracy/${m.level}`, m.accuracy])));
      await wandb.finish();
      ctx.log(wandbRunText(p.wandb!.mode, wandb.folder));
    }
    const onnx = headToOnnx(layout, state.params, levels);
    const meta = {
      levels,
      classes: labels.classes,
      paths: knownPaths(labels.labels, train),
      dim,
      hidden: layout.shape.hidden,
      weights,
      split: { val_fraction: p.val_fraction, group_by: groupBy, seed },
    };
    await ctx.output('model').shard(0, async () => headModelTable(onnx, meta));
    await ctx.output('metrics').shard(
      0,
      async () =>
        new arrow.Table({
          epoch: arrow.vectorFromArray(
            metrics.map((m) => m.epoch),
            new arrow.Int32(),
          ),
          model: arrow.vectorFromArray(
            metrics.map((m) => m.model),
            new arrow.Utf8(),
          ),
          level: arrow.vectorFromArray(
            metrics.map((m) => m.level),
            new arrow.Utf8(),
          ),
          loss: arrow.vectorFromArray(
            metrics.map((m) => m.loss),
            new arrow.Float64(),
          ),
          lr: arrow.vectorFromArray(
            metrics.map((m) => m.lr),
            new arrow.Float64(),
          ),
          accuracy: arrow.vectorFromArray(
            metrics.map((m) => m.accuracy),
            new arrow.Float64(),
          ),
          macro_f1: arrow.vectorFromArray(
            metrics.map((m) => m.macro_f1),
            new arrow.Float64(),
          ),
          examples: arrow.vectorFromArray(
            metrics.map((m) => m.examples),
            new arrow.Int32(),
          ),
        }),
    );
    ctx.output('model').setMeta({ kind: 'taxonomy-head', levels, dim });
    if (p.model_path) {
      writeFileAtomic(ctx.resolvePath(p.model_path), onnx);
      writeFileAtomic(ctx.resolvePath(`${p.model_path}.labels.json`), JSON.stringify(meta, null, 2));
      ctx.recordExternalOutput(p.model_path);
    }
    if (p.metrics_path) {
      writeFileAtomic(ctx.resolvePath(p.metrics_path), JSON.stringify({ train: train.length, val: val.length, metrics }, null, 2));
      ctx.recordExternalOutput(p.metrics_path);
    }
    const final = (model: string, level: string) => metrics.find((m) => m.model === model && m.level === level && m.epoch === epochs);
    const genus = final('head', 'genus');
    return {
      train: train.length,
      val: val.length,
      steps: total,
      ...(genus ? { val_genus_accuracy: Number(genus.accuracy.toFixed(4)) } : {}),
    };
  },
});

/** An epoch's evaluation as W&B scalars, named as nt-lora's (`eval/accuracy/genus`); the loss is the epoch's training loss. */
function evalValues(rows: readonly MetricRow[]): Record<string, number> {
  const values: Record<string, number> = { epoch: rows[0]!.epoch };
  if (rows[0]!.loss !== null) values['train/epoch_loss'] = rows[0]!.loss;
  for (const r of rows) Object.assign(values, { [`eval/accuracy/${r.level}`]: r.accuracy, [`eval/macro_f1/${r.level}`]: r.macro_f1 });
  return values;
}

function groupByEpoch(rows: readonly MetricRow[]): MetricRow[][] {
  const epochs = new Map<number, MetricRow[]>();
  for (const r of rows) epochs.set(r.epoch, [...(epochs.get(r.epoch) ?? []), r]);
  return [...epochs.values()];
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
