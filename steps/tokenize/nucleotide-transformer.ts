// Owns the `tokenize/nucleotide-transformer` step: NT v1/v2 token ids (see the tokenizer module).
import { defineStep } from '../../engine/index.js';
import type { LengthPolicy } from './length-policy.js';
import { LENGTH_SCHEMA, writeTokenShards } from './token-shards.js';
import { tokenizerFor } from './tokenizer-for.js';

export const ntTokenize = defineStep<{ version: 1 | 2; max_tokens?: number; too_long: LengthPolicy }>({
  id: 'tokenize/nucleotide-transformer',
  version: '1',
  description: 'Nucleotide Transformer 6-mer tokens (v1: 500M/2.5B models, v2: 50M-500M models).',
  with: {
    properties: {
      version: { enum: [1, 2], default: 2, description: 'vocabulary: 1 for NT v1 (500M, 2.5B), 2 for NT v2' },
      ...LENGTH_SCHEMA,
    },
  },
  inputs: { sequences: { type: 'sequences' } },
  shardParallel: { shardsFrom: 'sequences' },
  outputs: { tokens: { type: 'tokens' } },
  maxTokens: (params) => tokenizerFor({ ...params, name: 'nucleotide-transformer' }).facts.max_tokens,
  async run(ctx) {
    const tokenizer = tokenizerFor({ ...ctx.params, name: 'nucleotide-transformer' });
    return writeTokenShards(ctx, tokenizer.tokenize, tokenizer.facts, ctx.params.too_long);
  },
});
