// Owns the `embed/kmer-profile` step: weights-free k-mer frequency vectors from sequences — a
// meaningful baseline for taxonomy search that needs no model.
import { defineStep, arrow } from '../../engine/index.js';
import { readText, textColumn, vectorColumn } from '../arrow-columns.js';
import { kmerProfile, type ProfileNorm } from './kmer-profile-vector.js';

export interface KmerProfileParams {
  k: number;
  canonical: boolean;
  normalize: ProfileNorm;
}

export const kmerProfileEmbed = defineStep<KmerProfileParams>({
  id: 'embed/kmer-profile',
  version: '1',
  description: 'k-mer frequency vectors (dimension 4^k), a model-free baseline.',
  with: {
    properties: {
      k: { type: 'integer', minimum: 3, maximum: 6, default: 4 },
      canonical: { type: 'boolean', default: false, description: 'count a k-mer and its reverse complement together' },
      normalize: { enum: ['l2', 'l1', 'none'], default: 'l2' },
    },
  },
  inputs: { sequences: { type: 'sequences' } },
  shardParallel: { shardsFrom: 'sequences' },
  outputs: { embeddings: { type: 'embeddings' } },
  async run(ctx) {
    const k = ctx.params.k;
    const canonical = ctx.params.canonical;
    const norm = ctx.params.normalize;
    const input = ctx.input('sequences');
    const output = ctx.output('embeddings');
    const dim = 4 ** k;
    let sequences = 0;
    for (let index = 0; index < input.shardCount && !ctx.signal.aborted; index++) {
      await output.shard(index, async () => {
        const table = await input.readShard(index);
        const seqs = readText(table, 'sequence');
        const flat = new Float32Array(seqs.length * dim);
        seqs.forEach((s, i) => flat.set(kmerProfile(s, k, canonical, norm), i * dim));
        sequences += seqs.length;
        return new arrow.Table({ id: textColumn(readText(table, 'id')), vector: vectorColumn(flat, dim) });
      });
      ctx.progress({ done: index + 1, total: input.shardCount, unit: 'shards', counters: { sequences } });
    }
    output.setMeta({ kind: 'kmer-profile', k, canonical, normalize: norm, dim });
    return { sequences, dim };
  },
});
