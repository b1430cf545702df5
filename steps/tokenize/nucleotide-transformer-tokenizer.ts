// Owns the Nucleotide Transformer tokenizer, token-id-identical to the reference: 6-mers over A,T,C,G
// (kmerIndex = sum b_i * 4^(5-i), A=0 T=1 C=2 G=3) for each maximal run of ACGT, the run's remainder
// as single letters, N always a single token that restarts the frame; CLS first, never EOS.

export type NtVersion = 1 | 2;

export interface NtVocabulary {
  unk: number;
  pad: number;
  mask: number;
  cls: number;
  /** Id of 6-mer index 0 (AAAAAA). */
  kmerBase: number;
  /** Ids of the single letters A, T, C, G, N. */
  letters: Record<'A' | 'T' | 'C' | 'G' | 'N', number>;
  /** Tokens per sequence including CLS. */
  maxTokens: number;
}

export const NT_VOCABULARY: Record<NtVersion, NtVocabulary> = {
  1: { unk: 0, pad: 1, mask: 2, cls: 3, kmerBase: 4, letters: { A: 4100, T: 4101, C: 4102, G: 4103, N: 4104 }, maxTokens: 1000 },
  2: { unk: 0, pad: 1, mask: 2, cls: 3, kmerBase: 6, letters: { A: 4102, T: 4103, C: 4104, G: 4105, N: 4106 }, maxTokens: 2048 },
};

const BASE_CODE = new Int8Array(128).fill(-1);
BASE_CODE['A'.charCodeAt(0)] = 0;
BASE_CODE['T'.charCodeAt(0)] = 1;
BASE_CODE['C'.charCodeAt(0)] = 2;
BASE_CODE['G'.charCodeAt(0)] = 3;

/** Tokenizes a clean sequence (A, C, G, T, N only). Any other letter becomes `<unk>`. */
export function tokenizeNt(sequence: string, version: NtVersion): Int32Array {
  const vocab = NT_VOCABULARY[version];
  const letterIds = [vocab.letters.A, vocab.letters.T, vocab.letters.C, vocab.letters.G];
  const out = new Int32Array(1 + sequence.length);
  let n = 0;
  out[n++] = vocab.cls;
  let i = 0;
  while (i < sequence.length) {
    const code = sequence.charCodeAt(i);
    if (code < 128 && BASE_CODE[code]! >= 0) {
      let end = i;
      while (end < sequence.length) {
        const c = sequence.charCodeAt(end);
        if (c >= 128 || BASE_CODE[c]! < 0) break;
        end++;
      }
      const whole = i + Math.floor((end - i) / 6) * 6;
      for (; i < whole; i += 6) {
        let index = 0;
        for (let j = 0; j < 6; j++) index = index * 4 + BASE_CODE[sequence.charCodeAt(i + j)]!;
        out[n++] = vocab.kmerBase + index;
      }
      for (; i < end; i++) out[n++] = letterIds[BASE_CODE[sequence.charCodeAt(i)]!]!;
    } else {
      out[n++] = sequence[i] === 'N' ? vocab.letters.N : vocab.unk;
      i++;
    }
  }
  return out.slice(0, n);
}
