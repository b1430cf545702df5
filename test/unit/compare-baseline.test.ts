import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../bench/bench-result.js';
import { compareWithBaseline, withResults, type Baseline } from '../../bench/compare-baseline.js';

const result = (ratios: BenchResult['ratios'], figures: BenchResult['figures'] = []): BenchResult => ({
  name: 'start-up',
  figures,
  ratios,
  notes: [],
});

const baseline: Baseline = {
  benches: {
    'start-up': {
      machine: 'm',
      date: '2026-12-06',
      result: result(
        [
          { label: 'version / node', value: 1.2, better: 'lower' },
          { label: 'efficiency', value: 0.9, better: 'higher' },
          { label: 'flops / formula', value: 1 },
        ],
        [{ label: 'version', value: 100, unit: 'ms' }],
      ),
    },
  },
};

describe('compareWithBaseline', () => {
  it('marks a ratio more than 10% worse in its own direction, and only that', () => {
    const rows = compareWithBaseline(
      [
        result(
          [
            { label: 'version / node', value: 1.33, better: 'lower' },
            { label: 'efficiency', value: 0.8, better: 'higher' },
            { label: 'flops / formula', value: 2 },
          ],
          [{ label: 'version', value: 200, unit: 'ms' }],
        ),
      ],
      baseline,
    );
    expect(rows.map((r) => [r.label, r.regression])).toEqual([
      ['version', false],
      ['version / node', true],
      ['efficiency', true],
      ['flops / formula', false],
    ]);
    expect(rows[1]!.baseline).toBe(1.2);
    expect(rows[1]!.change).toBeCloseTo(0.108, 3);
  });

  it('takes a change within 10%, or a better one, as no regression', () => {
    const rows = compareWithBaseline(
      [
        result([
          { label: 'version / node', value: 1.3, better: 'lower' },
          { label: 'efficiency', value: 1.5, better: 'higher' },
        ]),
      ],
      baseline,
    );
    expect(rows.some((r) => r.regression)).toBe(false);
  });

  it('shows a measure with no baseline as new', () => {
    const rows = compareWithBaseline([{ ...result([{ label: 'new ratio', value: 3, better: 'lower' }]), name: 'plan-scale' }], baseline);
    expect(rows).toEqual([{ bench: 'plan-scale', kind: 'ratio', label: 'new ratio', value: 3, unit: '', regression: false }]);
  });
});

describe('withResults', () => {
  it('replaces the benches that ran and keeps the others', () => {
    const next = withResults(baseline, [{ ...result([]), name: 'plan-scale' }], 'n', '2026-12-07');
    expect(Object.keys(next.benches)).toEqual(['plan-scale', 'start-up']);
    expect(next.benches['start-up']).toBe(baseline.benches['start-up']);
    expect(next.benches['plan-scale']!.date).toBe('2026-12-07');
  });
});
