// Owns choosing a tokenizer function and its facts by name and settings: the one place the tokenize
// steps take them from (`strand tokenize` and `strand search` run those steps).
import { CHAR_SPECIAL, tokenizeChar } from './char-tokenizer.js';
import { KMER_SPECIAL, tokenizeKmer } from './kmer-tokenizer.js';
import { NT_VOCABULARY, tokenizeNt, type NtVersion } from './nucleotide-transformer-tokenizer.js';
import type { TokenizerFacts } from './token-shards.js';

export interface Tokenizer {
  tokenize: (sequence: string) => Int32Array;
  facts: TokenizerFacts;
}

/** A tokenizer and the settings its step's `with:` gives it (schema defaults filled in). */
export type TokenizerSettings =
  | { name: 'nucleotide-transformer'; version: NtVersion; max_tokens?: number }
  | { name: 'kmer'; k: number; max_tokens?: number }
  | { name: 'char'; max_tokens?: number };

export function tokenizerFor(settings: TokenizerSettings): Tokenizer {
  const { name, max_tokens: maxTokens } = settings;
  switch (settings.name) {
    case 'nucleotide-transformer': {
      const version = settings.version;
      const vocab = NT_VOCABULARY[version];
      return {
        tokenize: (s) => tokenizeNt(s, version),
        facts: {
          tokenizer: name,
          version: String(version),
          pad_id: vocab.pad,
          prefix: 1,
          suffix: 0,
          max_tokens: maxTokens ?? vocab.maxTokens,
        },
      };
    }
    case 'kmer': {
      const k = settings.k;
      return {
        tokenize: (s) => tokenizeKmer(s, k),
        facts: { tokenizer: name, version: `k${k}`, pad_id: KMER_SPECIAL.pad, prefix: 1, suffix: 1, max_tokens: maxTokens ?? 512 },
      };
    }
    case 'char':
      return {
        tokenize: tokenizeChar,
        facts: { tokenizer: name, version: '1', pad_id: CHAR_SPECIAL.pad, prefix: 0, suffix: 1, max_tokens: maxTokens ?? 32768 },
      };
    default: {
      const unknown: never = settings;
      throw new Error(`unknown tokenizer ${JSON.stringify(unknown)}`);
    }
  }
}
