// Owns the deterministic train/validation split: by a hash of the sequence id (random split), or by a
// hash of a group label (hold out whole species or genera, to see how the head meets unseen taxa).
import { createHash } from 'node:crypto';

/** A number in [0, 1) from a string, the same on every machine. */
export function unitHash(text: string, seed: number): number {
  return createHash('sha256').update(`${seed}:${text}`).digest().readUInt32BE(0) / 4294967296;
}

export function splitExamples(keys: readonly (string | null)[], valFraction: number, seed: number): { train: number[]; val: number[] } {
  const train: number[] = [];
  const val: number[] = [];
  keys.forEach((key, i) => (key !== null && unitHash(key, seed) < valFraction ? val : train).push(i));
  return { train, val };
}
