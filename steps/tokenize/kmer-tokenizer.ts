// Owns the DNABERT-style overlapping k-mer tokenizer: [CLS] k-mers [SEP], with the DNABERT vocabulary
// layout ([PAD]0 [UNK]1 [CLS]2 [SEP]3 [MASK]4, then k-mers in A,C,G,T lexicographic order from 5).
// A k-mer containing N (or any other letter) is [UNK].

export const KMER_SPECIAL = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4, first: 5 } as const;

const CODE = new Int8Array(128).fill(-1);
'ACGT'.split('').forEach((b, i) => (CODE[b.charCodeAt(0)] = i));

export function tokenizeKmer(sequence: string, k: number): Int32Array {
  const count = Math.max(0, sequence.length - k + 1);
  const out = new Int32Array(count + 2);
  out[0] = KMER_SPECIAL.cls;
  for (let i = 0; i < count; i++) {
    let index = 0;
    let valid = true;
    for (let j = 0; j < k; j++) {
      const c = sequence.charCodeAt(i + j);
      const code = c < 128 ? CODE[c]! : -1;
      if (code < 0) {
        valid = false;
        break;
      }
      index = index * 4 + code;
    }
    out[i + 1] = valid ? KMER_SPECIAL.first + index : KMER_SPECIAL.unk;
  }
  out[count + 1] = KMER_SPECIAL.sep;
  return out;
}
