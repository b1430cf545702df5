// Owns k-mer frequency profiles: counts of every k-mer over A,C,G,T (k-mers with N skipped),
// optionally folded onto canonical k-mers (a k-mer and its reverse complement), then normalised.

export type ProfileNorm = 'l2' | 'l1' | 'none';

const CODE = new Int8Array(128).fill(-1);
'ACGT'.split('').forEach((b, i) => (CODE[b.charCodeAt(0)] = i));

function reverseComplementIndex(index: number, k: number): number {
  let rc = 0;
  for (let i = 0; i < k; i++) {
    rc = rc * 4 + (3 - (index & 3)); // A<->T, C<->G in ACGT order
    index >>= 2;
  }
  return rc;
}

export function kmerProfile(sequence: string, k: number, canonical: boolean, norm: ProfileNorm): Float32Array {
  const size = 4 ** k;
  const counts = new Float64Array(size);
  const mask = size - 1;
  let index = 0;
  let valid = 0;
  for (let i = 0; i < sequence.length; i++) {
    const c = sequence.charCodeAt(i);
    const code = c < 128 ? CODE[c]! : -1;
    if (code < 0) {
      valid = 0;
      index = 0;
      continue;
    }
    index = ((index << 2) | code) & mask;
    if (++valid >= k) {
      const rc = canonical ? reverseComplementIndex(index, k) : index;
      counts[Math.min(index, rc)]!++;
    }
  }
  let total = 0;
  for (let i = 0; i < size; i++) total += norm === 'l2' ? counts[i]! * counts[i]! : counts[i]!;
  const scale = norm === 'none' || total === 0 ? 1 : norm === 'l2' ? 1 / Math.sqrt(total) : 1 / total;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = counts[i]! * scale;
  return out;
}
