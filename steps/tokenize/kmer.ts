// Owns the `tokenize/kmer` step: DNABERT-style overlapping k-mers.
import { defineStep } from '../../engine/index.js';
import { KMER_SPECIAL, tokenizeKmer } from './kmer-tokenizer.js';
import type { LengthPolicy } from './length-policy.js';
import { LENGTH_SCHEMA, writeTokenShards } from './token-shards.js';

export const kmerTokenize = defineStep<{ k?: number; max_tokens?: number; too_long?: LengthPolicy }>({
  id: 'tokenize/kmer',
  version: '1',
  description: 'Overlapping k-mer tokens with the DNABERT vocabulary layout.',
  with: { properties: { k: { type: 'integer', minimum: 3, maximum: 6, default: 6 }, ...LENGTH_SCHEMA } },
  inputs: { sequences: { type: 'sequences' } },
  outputs: { tokens: { type: 'tokens' } },
  async run(ctx) {
    const k = ctx.params.k ?? 6;
    const facts = { tokenizer: 'kmer', version: `k${k}`, pad_id: KMER_SPECIAL.pad, prefix: 1, suffix: 1, max_tokens: ctx.params.max_tokens ?? 512 };
    return writeTokenShards(ctx, (s) => tokenizeKmer(s, k), facts, ctx.params.too_long ?? 'truncate');
  },
});
