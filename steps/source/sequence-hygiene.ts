// Owns cleaning DNA sequences under an explicit policy: upper-case, U -> T, IUPAC ambiguity codes
// (R Y S W K M B D H V) -> N, gaps (- .) and whitespace removed. Any other letter is invalid and is
// handled by `invalid: error | skip | to-n`.

export type InvalidPolicy = 'error' | 'skip' | 'to-n';

export type CleanResult =
  | { ok: true; sequence: string; changed: boolean }
  | { ok: false; reason: string };

const AMBIGUOUS = new Set('RYSWKMBDHV');
const GAPS = new Set('-. \t\r\n*');

export function cleanSequence(raw: string, invalid: InvalidPolicy): CleanResult {
  let out = '';
  let changed = false;
  for (let i = 0; i < raw.length; i++) {
    const original = raw[i]!;
    const c = original.toUpperCase();
    if (c === 'A' || c === 'C' || c === 'G' || c === 'T' || c === 'N') {
      out += c;
      if (c !== original) changed = true;
    } else if (c === 'U') {
      out += 'T';
      changed = true;
    } else if (AMBIGUOUS.has(c)) {
      out += 'N';
      changed = true;
    } else if (GAPS.has(c)) {
      changed = true;
    } else if (invalid === 'to-n') {
      out += 'N';
      changed = true;
    } else {
      return { ok: false, reason: `character ${JSON.stringify(original)} at position ${i + 1} is not a nucleotide` };
    }
  }
  return { ok: true, sequence: out, changed };
}
