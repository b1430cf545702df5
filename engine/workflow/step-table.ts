// Owns the steps of a workflow being checked, by position (file order): their ids, their values as
// written, their plugins once resolved, and each id's position. Checking 100,000 steps walks them by
// position; only a reference by name costs a lookup.
import type { StepPlugin } from '../plugin-api/step-plugin.js';

export interface StepTable {
  /** In file order. */
  ids: readonly string[];
  /** What the file holds for each step (anything: the schema check reports what is not a mapping). */
  raws: readonly unknown[];
  /** The plugin each step's `uses` names; undefined where none could be resolved. */
  plugins: readonly (StepPlugin | undefined)[];
  /** Position of each id. */
  positions: ReadonlyMap<string, number>;
  /**
   * Whether a name counts as a step, as `name in steps` of the mapping does: its own keys, and what it
   * inherits (`toString`), which names no step but was never reported as missing either.
   */
  isStep(name: string): boolean;
}
