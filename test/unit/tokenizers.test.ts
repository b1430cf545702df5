import { describe, expect, it } from 'vitest';
import { tokenizeNt } from '../../steps/tokenize/nucleotide-transformer-tokenizer.js';
import { tokenizeKmer } from '../../steps/tokenize/kmer-tokenizer.js';
import { tokenizeChar } from '../../steps/tokenize/char-tokenizer.js';
import { applyLengthPolicy, TooLongError } from '../../steps/tokenize/length-policy.js';

const ids = (a: Int32Array): number[] => Array.from(a);

describe('Nucleotide Transformer tokenizer', () => {
  it('matches the reference worked examples (v2)', () => {
    expect(ids(tokenizeNt('ATTCCGATTCCGATTCCG', 2))).toEqual([3, 369, 369, 369]);
    expect(ids(tokenizeNt('ATCGAATGGCGATGCAC', 2))).toEqual([3, 438, 2034, 4103, 4105, 4104, 4102, 4104]);
    expect(ids(tokenizeNt('NNAAAAAA', 2))).toEqual([3, 4106, 4106, 6]);
  });

  it('uses the v1 vocabulary offsets', () => {
    expect(ids(tokenizeNt('ATTCCGATTCCGATTCCG', 1))).toEqual([3, 367, 367, 367]);
    expect(ids(tokenizeNt('NNAAAAAA', 1))).toEqual([3, 4104, 4104, 4]);
    expect(ids(tokenizeNt('GGGGGGA', 1))).toEqual([3, 4 + 4095, 4100]);
  });

  it('restarts the 6-mer frame after N', () => {
    // AAAAAAA N CCCCCC: one 6-mer + single A, N, then one 6-mer of C (index 2*(4^6-1)/3 = 2730)
    expect(ids(tokenizeNt('AAAAAAANCCCCCC', 2))).toEqual([3, 6, 4102, 4106, 6 + 2730]);
  });

  it('never appends EOS and maps other letters to <unk>', () => {
    expect(ids(tokenizeNt('ACGTX', 2))).toEqual([3, 4102, 4104, 4105, 4103, 0]);
  });
});

describe('k-mer and character tokenizers', () => {
  it('makes overlapping k-mers with CLS and SEP, UNK for N', () => {
    expect(ids(tokenizeKmer('AACGT', 3))).toEqual([2, 5 + 1, 5 + 6, 5 + 27, 3]);
    expect(ids(tokenizeKmer('AANA', 3))).toEqual([2, 1, 1, 3]);
  });

  it('maps characters with the HyenaDNA vocabulary', () => {
    expect(ids(tokenizeChar('ACGTN'))).toEqual([7, 8, 9, 10, 11, 1]);
  });
});

describe('length policy', () => {
  const tokens = Int32Array.from([3, 10, 11, 12, 13, 14]);
  it('truncates keeping the leading CLS', () => {
    expect(applyLengthPolicy(tokens, 4, 'truncate', 1).map(ids)).toEqual([[3, 10, 11, 12]]);
  });
  it('splits into windows that each start with CLS', () => {
    expect(applyLengthPolicy(tokens, 3, 'windows', 1).map(ids)).toEqual([
      [3, 10, 11],
      [3, 12, 13],
      [3, 14],
    ]);
  });
  it('keeps a trailing SEP when truncating', () => {
    expect(applyLengthPolicy(Int32Array.from([2, 9, 9, 9, 3]), 3, 'truncate', 1, 1).map(ids)).toEqual([[2, 9, 3]]);
  });
  it('refuses long sequences under error', () => {
    expect(() => applyLengthPolicy(tokens, 4, 'error', 1)).toThrow(TooLongError);
  });
});
