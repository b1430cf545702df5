// Owns the deterministic train/validation split: by a hash of the sequence id (random split), or by a
// hash of a group label (hold out whole species or genera, to see how the head meets unseen taxa).
import { createHash } from 'node:crypto';
import { StepError } from '../../engine/index.js';

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

export type GroupBy = 'none' | 'species' | 'genus' | 'family';

/**
 * The split a training step uses: by example id (`group_by: none`), or holding out whole taxa of a level.
 * Refuses a group level that is not trained and a split that leaves either side empty.
 */
export function trainingSplit(
  ids: readonly string[],
  columns: readonly (readonly (string | null)[])[],
  levels: readonly string[],
  groupBy: GroupBy,
  valFraction: number,
  seed: number,
): { train: number[]; val: number[] } {
  const groupLevel = levels.indexOf(groupBy);
  if (groupBy !== 'none' && groupLevel < 0)
    throw new StepError(`group_by: ${groupBy} is not one of the levels`, `levels: ${levels.join(', ')}`);
  const split = splitExamples(groupBy === 'none' ? ids : columns[groupLevel]!, valFraction, seed);
  if (split.train.length === 0 || split.val.length === 0)
    throw new StepError(
      `the split leaves ${split.train.length} training and ${split.val.length} validation examples`,
      'use more data or another val_fraction',
    );
  return split;
}
