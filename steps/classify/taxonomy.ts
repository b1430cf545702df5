// Owns the `classify/taxonomy` step: apply a trained head (ONNX, in onnxruntime) to embeddings, decode
// a lineage consistent with the taxonomy seen in training, with per-level confidence, and flag novel
// candidates (low confidence at a chosen level, or — with a reference input — a nearest labelled vector
// farther than a distance). Output: the sequences' metadata plus these columns, ready for export/lancedb.
import { defineStep, StepError, arrow } from '../../engine/index.js';
import { nearestNeighbours } from '../finetune/nearest-neighbour.js';
import type { Vector } from 'apache-arrow';
import { readAllVectors, readText, readVectors } from '../arrow-columns.js';
import { decodeLineage } from './decode-lineage.js';

interface HeadMeta {
  levels: string[];
  classes: string[][];
  paths: number[][];
  dim: number;
}

export const classifyTaxonomy = defineStep<{ novel_level: string; novel_threshold: number; novel_distance?: number; batch_size: number }>({
  id: 'classify/taxonomy',
  version: '1',
  description: 'Predict a lineage with per-level confidence from a trained taxonomy head; flag novel candidates.',
  with: {
    properties: {
      novel_level: { type: 'string', default: 'genus', description: 'the level whose confidence decides novelty' },
      novel_threshold: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0.8,
        description: 'novel when the confidence is below this (docs/fine-tuning.md: the trade-off measured on held-out genera)',
      },
      novel_distance: {
        type: 'number',
        exclusiveMinimum: 0,
        description: 'with a reference input: also novel when the nearest reference vector is farther than this',
      },
      batch_size: { type: 'integer', minimum: 1, default: 256 },
    },
  },
  execution: ['batch_size'],
  inputs: {
    embeddings: { type: 'embeddings' },
    model: { type: 'model' },
    metadata: { type: 'sequences', optional: true, description: 'columns passed through (ids must match)' },
    reference: {
      type: 'embeddings',
      optional: true,
      explicit: true,
      description: 'labelled vectors (e.g. the training set): distance to the nearest one',
    },
  },
  outputs: { annotated: { type: 'sequences' } },
  async run(ctx) {
    const modelTable = await ctx.input('model').readShard(0);
    const onnx = modelTable.getChild('onnx')!.get(0) as Uint8Array;
    const meta = JSON.parse(String(modelTable.getChild('meta')!.get(0))) as HeadMeta;
    const novelLevel = ctx.params.novel_level;
    const novelIndex = meta.levels.indexOf(novelLevel);
    if (novelIndex < 0) throw new StepError(`novel_level ${novelLevel} is not a level of the head`, `levels: ${meta.levels.join(', ')}`);
    const threshold = ctx.params.novel_threshold;
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnx);
    const embeddings = ctx.input('embeddings');
    const metadata = ctx.optionalInput('metadata');
    const referenceInput = ctx.optionalInput('reference');
    const reference = referenceInput ? await readAllVectors(referenceInput) : undefined;
    const novelDistance = ctx.params.novel_distance;
    if (novelDistance !== undefined && reference === undefined)
      throw new StepError('novel_distance needs a reference input', 'wire it: inputs: { reference: "${{ steps.ID.outputs.embeddings }}" }');
    let novel = 0;
    let count = 0;
    try {
      for (let index = 0; index < embeddings.shardCount && !ctx.signal.aborted; index++) {
        await ctx.output('annotated').shard(index, async () => {
          const table = await embeddings.readShard(index);
          const ids = readText(table, 'id');
          const { flat, dim } = readVectors(table, 'vector');
          if (dim !== meta.dim)
            throw new StepError(
              `the embeddings have ${dim} dimensions; the head was trained on ${meta.dim}`,
              'classify with vectors made the way the training vectors were',
            );
          const predicted = meta.levels.map(() => [] as (string | null)[]);
          const confidence = meta.levels.map(() => [] as number[]);
          const flags: boolean[] = [];
          const nearest = reference ? nearestNeighbours({ flat, dim }, reference).map((n) => n.distance) : undefined;
          const batch = ctx.params.batch_size;
          for (let start = 0; start < ids.length; start += batch) {
            const rows = Math.min(batch, ids.length - start);
            const out = await session.run({
              embedding: new ort.Tensor('float32', flat.slice(start * dim, (start + rows) * dim), [rows, dim]),
            });
            for (let r = 0; r < rows; r++) {
              const probs = meta.levels.map((level, l) =>
                (out[`prob_${level}`]!.data as Float32Array).subarray(r * meta.classes[l]!.length, (r + 1) * meta.classes[l]!.length),
              );
              const decoded = decodeLineage(probs, meta.paths);
              decoded.path.forEach((c, l) => {
                predicted[l]!.push(meta.classes[l]![c] ?? null);
                confidence[l]!.push(decoded.confidence[l]!);
              });
              const far = nearest !== undefined && novelDistance !== undefined && nearest[start + r]! > novelDistance;
              flags.push(decoded.confidence[novelIndex]! < threshold || far);
            }
          }
          novel += flags.filter(Boolean).length;
          count += ids.length;
          const columns: Record<string, Vector> = {};
          if (metadata) {
            const m = await metadata.readShard(index);
            const metaIds = readText(m, 'id');
            if (metaIds.length !== ids.length || metaIds.some((id, i) => id !== ids[i]))
              throw new StepError(
                `shard ${index}: the metadata ids differ from the embeddings'`,
                'wire the metadata input to the source the embeddings were made from',
              );
            for (const field of m.schema.fields) columns[field.name] = m.getChild(field.name)!;
          } else columns.id = table.getChild('id')!;
          meta.levels.forEach((level, l) => {
            columns[`predicted_${level}`] = arrow.vectorFromArray(predicted[l]!, new arrow.Utf8());
            columns[`confidence_${level}`] = arrow.vectorFromArray(Float32Array.from(confidence[l]!));
          });
          if (nearest) columns.nearest_reference_distance = arrow.vectorFromArray(Float32Array.from(nearest));
          columns.novel_candidate = arrow.vectorFromArray(flags, new arrow.Bool());
          return new arrow.Table(columns);
        });
        ctx.progress({ done: index + 1, total: embeddings.shardCount, unit: 'shards' });
      }
    } finally {
      await session.release();
    }
    ctx.output('annotated').setMeta({ classified_by: 'classify/taxonomy', levels: meta.levels });
    return { sequences: count, novel_candidates: novel };
  },
});
