// Owns turning lineage columns into class indices per level: which labels are placeholders (masked
// unless kept), the class list of each level, and the lineage paths seen (for consistent decoding).

export const DEFAULT_LEVELS = ['kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species'] as const;
export const DEFAULT_LEVEL_WEIGHTS: Record<string, number> = {
  kingdom: 2.0,
  phylum: 1.8,
  class: 1.5,
  order: 1.2,
  family: 1.0,
  genus: 0.8,
  species: 0.6,
};

const PLACEHOLDER = /(^|_)(sp|spp|cf|aff)\.?$|incertae_sedis|unidentified|^unknown$|^unclassified/i;

export function isPlaceholder(label: string): boolean {
  return PLACEHOLDER.test(label.trim());
}

export interface LabelSet {
  levels: string[];
  classes: string[][];
  /** Per level, the class index of each example, -1 where the label is missing or masked. */
  labels: Int32Array[];
}

export function buildLabels(
  levels: readonly string[],
  columns: readonly (readonly (string | null)[])[],
  keepPlaceholders: boolean,
): LabelSet {
  const classes: string[][] = [];
  const labels = columns.map((values, level) => {
    const index = new Map<string, number>();
    const out = new Int32Array(values.length).fill(-1);
    values.forEach((v, i) => {
      if (v === null || v === '' || (!keepPlaceholders && isPlaceholder(v))) return;
      let c = index.get(v);
      if (c === undefined) index.set(v, (c = index.size));
      out[i] = c;
    });
    classes[level] = [...index.keys()];
    return out;
  });
  return { levels: [...levels], classes, labels };
}

/** Distinct full lineage paths (class index per level) among the given examples. */
export function knownPaths(labels: readonly Int32Array[], examples: readonly number[]): number[][] {
  const seen = new Map<string, number[]>();
  for (const e of examples) {
    const path = labels.map((l) => l[e]!);
    if (path.some((c) => c < 0)) continue;
    seen.set(path.join(','), path);
  }
  return [...seen.values()];
}
