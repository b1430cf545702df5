// Owns the `tokenize/kmer` step: DNABERT-style overlapping k-mers.
import { defineStep } from '../../engine/index.js';
import type { LengthPolicy } from './length-policy.js';
import { LENGTH_SCHEMA, writeTokenShards } from './token-shards.js';
import { tokenizerFor } from './tokenizer-for.js';

export const kmerTokenize = defineStep<{ k: number; max_tokens?: number; too_long: LengthPolicy }>({
  id: 'tokenize/kmer',
  version: '1',
  description: 'Overlapping k-mer tokens with the DNABERT vocabulary layout.',
  with: { properties: { k: { type: 'integer', minimum: 3, maximum: 6, default: 6 }, ...LENGTH_SCHEMA } },
  inputs: { sequences: { type: 'sequences' } },
  shardParallel: { shardsFrom: 'sequences' },
  outputs: { tokens: { type: 'tokens' } },
  maxTokens: (params) => tokenizerFor({ ...params, name: 'kmer' }).facts.max_tokens,
  async run(ctx) {
    const tokenizer = tokenizerFor({ ...ctx.params, name: 'kmer' });
    return writeTokenShards(ctx, tokenizer.tokenize, tokenizer.facts, ctx.params.too_long);
  },
});
