// Owns the `tokenize/char` step: HyenaDNA-style character tokens.
import { defineStep } from '../../engine/index.js';
import { CHAR_SPECIAL, tokenizeChar } from './char-tokenizer.js';
import type { LengthPolicy } from './length-policy.js';
import { LENGTH_SCHEMA, writeTokenShards } from './token-shards.js';

export const charTokenize = defineStep<{ max_tokens?: number; too_long?: LengthPolicy }>({
  id: 'tokenize/char',
  version: '1',
  description: 'Character-level tokens with the HyenaDNA vocabulary.',
  with: { properties: { ...LENGTH_SCHEMA } },
  inputs: { sequences: { type: 'sequences' } },
  outputs: { tokens: { type: 'tokens' } },
  async run(ctx) {
    const facts = { tokenizer: 'char', version: '1', pad_id: CHAR_SPECIAL.pad, prefix: 0, suffix: 1, max_tokens: ctx.params.max_tokens ?? 32768 };
    return writeTokenShards(ctx, tokenizeChar, facts, ctx.params.too_long ?? 'truncate');
  },
});
