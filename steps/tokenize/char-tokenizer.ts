// Owns the HyenaDNA-style character tokenizer: one token per base, then [SEP], with HyenaDNA's
// CharacterTokenizer vocabulary ([CLS]0 [SEP]1 [BOS]2 [MASK]3 [PAD]4 [RESERVED]5 [UNK]6, A7 C8 G9 T10 N11).

export const CHAR_SPECIAL = { cls: 0, sep: 1, bos: 2, mask: 3, pad: 4, unk: 6 } as const;
const IDS: Record<string, number> = { A: 7, C: 8, G: 9, T: 10, N: 11 };

export function tokenizeChar(sequence: string): Int32Array {
  const out = new Int32Array(sequence.length + 1);
  for (let i = 0; i < sequence.length; i++) out[i] = IDS[sequence[i]!] ?? CHAR_SPECIAL.unk;
  out[sequence.length] = CHAR_SPECIAL.sep;
  return out;
}
