// Owns cleaning DNA sequences under an explicit policy: upper-case, U -> T, IUPAC ambiguity codes
// (R Y S W K M B D H V) -> N, gaps (- .) and whitespace removed. Any other letter is invalid and is
// handled by `invalid: error | skip | to-n`.
import { quoteText } from '../../engine/index.js';

export type InvalidPolicy = 'error' | 'skip' | 'to-n';

export type CleanResult = { ok: true; sequence: string; changed: boolean } | { ok: false; reason: string };

const CLEAN = /^[ACGTN]*$/;
// Per character code: the cleaned letter, 0 to drop (gaps), -1 for invalid.
const MAP = new Int16Array(128).fill(-1);
for (const c of 'ACGTN') MAP[c.charCodeAt(0)] = MAP[c.toLowerCase().charCodeAt(0)] = c.charCodeAt(0);
MAP['U'.charCodeAt(0)] = MAP['u'.charCodeAt(0)] = 'T'.charCodeAt(0);
for (const c of 'RYSWKMBDHV') MAP[c.charCodeAt(0)] = MAP[c.toLowerCase().charCodeAt(0)] = 'N'.charCodeAt(0);
for (const c of '-. \t\r\n*') MAP[c.charCodeAt(0)] = 0;

export function cleanSequence(raw: string, invalid: InvalidPolicy): CleanResult {
  if (CLEAN.test(raw)) return { ok: true, sequence: raw, changed: false };
  // Built in a byte buffer: appending to a string letter by letter makes a rope that costs
  // tens of bytes per base until flattened.
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    let mapped = code < 128 ? MAP[code]! : -1;
    if (mapped < 0) {
      if (invalid !== 'to-n') return { ok: false, reason: `character ${quoteText(raw[i]!)} at position ${i + 1} is not a nucleotide` };
      mapped = 78; // N
    }
    if (mapped > 0) out[n++] = mapped;
  }
  return { ok: true, sequence: out.toString('latin1', 0, n), changed: true };
}
