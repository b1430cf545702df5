// Owns choosing a tokenizer function and its facts by name and settings: the one place the tokenize
// steps take them from (`strand tokenize` and `strand search` run those steps).
import { CHAR_SPECIAL, tokenizeChar } from './char-tokenizer.js';
import { KMER_SPECIAL, tokenizeKmer } from './kmer-tokenizer.js';
import { NT_VOCABULARY, tokenizeNt, type NtVersion } from './nucleotide-transformer-tokenizer.js';
import type { TokenizerFacts } from './token-shards.js';

export interface Tokenizer {
  tokenize(sequence: string): Int32Array;
  facts: TokenizerFacts;
}

export function tokenizerFor(name: string, settings: { version?: unknown; k?: unknown; max_tokens?: unknown }): Tokenizer {
  const maxTokens = typeof settings.max_tokens === 'number' ? settings.max_tokens : undefined;
  switch (name) {
    case 'nucleotide-transformer': {
      const version: NtVersion = Number(settings.version ?? 2) === 1 ? 1 : 2;
      const vocab = NT_VOCABULARY[version];
      return { tokenize: (s) => tokenizeNt(s, version), facts: { tokenizer: name, version: String(version), pad_id: vocab.pad, prefix: 1, suffix: 0, max_tokens: maxTokens ?? vocab.maxTokens } };
    }
    case 'kmer': {
      const k = Number(settings.k ?? 6);
      return { tokenize: (s) => tokenizeKmer(s, k), facts: { tokenizer: name, version: `k${k}`, pad_id: KMER_SPECIAL.pad, prefix: 1, suffix: 1, max_tokens: maxTokens ?? 512 } };
    }
    case 'char':
      return { tokenize: tokenizeChar, facts: { tokenizer: name, version: '1', pad_id: CHAR_SPECIAL.pad, prefix: 0, suffix: 1, max_tokens: maxTokens ?? 32768 } };
    default:
      throw new Error(`unknown tokenizer ${name}`);
  }
}
