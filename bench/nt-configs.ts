// Owns the config.json of the full-size Nucleotide Transformers the benches use (bench/nt-configs.json, which
// the runtime's benches read too; shapes only, no weights are downloaded).
import { readFileSync } from 'node:fs';

export type NtConfig = Record<string, number | boolean | string> & {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
};

const configs = JSON.parse(readFileSync(new URL('../../bench/nt-configs.json', import.meta.url), 'utf8')) as {
  models: Record<string, NtConfig>;
};

/** NT-2.5B (v1: learned positions, 32 x 2,560, GELU with biases). */
export const NT_2_5B = configs.models['nt-v1-2.5b']!;
