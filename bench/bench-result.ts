// Owns the shape of a benchmark's result: measured figures and the ratios that are its verdict
// (ratios against a baseline measured in the same run, since this machine is shared and noisy).

export interface Figure {
  label: string;
  value: number;
  unit: string;
}

export interface Ratio {
  label: string;
  value: number;
  /** What the ratio should reach, if the issue sets a target. */
  target?: string;
  /**
   * Which way is better, for `npm run bench` to mark a regression against bench/baseline.json. Left out
   * for ratios that check an account rather than a speed (FLOP counts, a formula against XLA): those are
   * printed beside their baseline but not judged.
   */
  better?: 'higher' | 'lower';
}

export interface BenchResult {
  name: string;
  figures: Figure[];
  ratios: Ratio[];
  notes: string[];
}
