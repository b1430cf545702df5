// Owns the `tokenize/nucleotide-transformer` step: NT v1/v2 token ids (see the tokenizer module).
import { defineStep } from '../../engine/index.js';
import type { LengthPolicy } from './length-policy.js';
import { NT_VOCABULARY, tokenizeNt, type NtVersion } from './nucleotide-transformer-tokenizer.js';
import { LENGTH_SCHEMA, writeTokenShards, type TokenizerFacts } from './token-shards.js';

export interface NtParams {
  version?: NtVersion;
  max_tokens?: number;
  too_long?: LengthPolicy;
}

export function ntFacts(params: NtParams): TokenizerFacts {
  const version = params.version ?? 2;
  return { tokenizer: 'nucleotide-transformer', version: String(version), pad_id: NT_VOCABULARY[version].pad, prefix: 1, suffix: 0, max_tokens: params.max_tokens ?? NT_VOCABULARY[version].maxTokens };
}

export const ntTokenize = defineStep<NtParams>({
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
  outputs: { tokens: { type: 'tokens' } },
  async run(ctx) {
    const facts = ntFacts(ctx.params);
    const version = ctx.params.version ?? 2;
    return writeTokenShards(ctx, (s) => tokenizeNt(s, version), facts, ctx.params.too_long ?? 'truncate');
  },
});
