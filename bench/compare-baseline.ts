// Owns comparing a bench run with the committed one (bench/baseline.json): each figure and ratio beside
// its last committed value, and a regression wherever a ratio with a direction got more than 10% worse.
// Pure: results and baseline in, rows out; run-all.ts reads and writes the files.
import type { BenchResult } from './bench-result.js';

/** How much worse than its baseline a ratio may get before it counts as a regression. */
export const TOLERANCE = 0.1;

/** bench/baseline.json: the last committed result of each bench, by name. */
export interface Baseline {
  /** Where each bench was last measured (machine, date); ratios travel between machines, figures less so. */
  benches: Record<string, { machine: string; date: string; result: BenchResult }>;
}

export interface ComparedRow {
  bench: string;
  kind: 'figure' | 'ratio';
  label: string;
  value: number;
  unit: string;
  target?: string;
  baseline?: number;
  /** value / baseline - 1, when there is a baseline. */
  change?: number;
  /** A ratio with a direction that got more than TOLERANCE worse. */
  regression: boolean;
}

export function compareWithBaseline(results: readonly BenchResult[], baseline: Baseline): ComparedRow[] {
  const rows: ComparedRow[] = [];
  for (const r of results) {
    const before = baseline.benches[r.name]?.result;
    for (const f of r.figures) {
      const base = before?.figures.find((b) => b.label === f.label)?.value;
      rows.push({
        bench: r.name,
        kind: 'figure',
        label: f.label,
        value: f.value,
        unit: f.unit,
        ...changeFrom(f.value, base),
        regression: false,
      });
    }
    for (const q of r.ratios) {
      const base = before?.ratios.find((b) => b.label === q.label)?.value;
      const worse =
        base !== undefined &&
        q.better !== undefined &&
        (q.better === 'lower' ? q.value > base * (1 + TOLERANCE) : q.value < base * (1 - TOLERANCE));
      rows.push({
        bench: r.name,
        kind: 'ratio',
        label: q.label,
        value: q.value,
        unit: '',
        ...(q.target !== undefined ? { target: q.target } : {}),
        ...changeFrom(q.value, base),
        regression: worse,
      });
    }
  }
  return rows;
}

function changeFrom(value: number, base: number | undefined): { baseline?: number; change?: number } {
  if (base === undefined) return {};
  return { baseline: base, ...(base !== 0 ? { change: value / base - 1 } : {}) };
}

/** The baseline with these results in place of their benches' last ones (others are kept). */
export function withResults(baseline: Baseline, results: readonly BenchResult[], machine: string, date: string): Baseline {
  const benches = { ...baseline.benches };
  for (const result of results) benches[result.name] = { machine, date, result };
  return { benches: Object.fromEntries(Object.entries(benches).sort(([a], [b]) => a.localeCompare(b))) };
}
