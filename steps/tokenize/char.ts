// Owns the `tokenize/char` step: HyenaDNA-style character tokens.
import { defineStep } from '../../engine/index.js';
import type { LengthPolicy } from './length-policy.js';
import { LENGTH_SCHEMA, writeTokenShards } from './token-shards.js';
import { tokenizerFor } from './tokenizer-for.js';

export const charTokenize = defineStep<{ max_tokens?: number; too_long: LengthPolicy }>({
  id: 'tokenize/char',
  version: '1',
  description: 'Character-level tokens with the HyenaDNA vocabulary.',
  with: { properties: { ...LENGTH_SCHEMA } },
  inputs: { sequences: { type: 'sequences' } },
  shardParallel: { shardsFrom: 'sequences' },
  outputs: { tokens: { type: 'tokens' } },
  maxTokens: (params) => tokenizerFor({ ...params, name: 'char' }).facts.max_tokens,
  async run(ctx) {
    const tokenizer = tokenizerFor({ ...ctx.params, name: 'char' });
    return writeTokenShards(ctx, tokenizer.tokenize, tokenizer.facts, ctx.params.too_long);
  },
});
