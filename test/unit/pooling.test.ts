import { describe, expect, it } from 'vitest';
import { mergeWindows, poolHidden } from '../../steps/embed/pooling.js';
import { kmerProfile } from '../../steps/embed/kmer-profile-vector.js';

// Two rows, three token positions, dimension 2. Row 0 has 2 real tokens (CLS + one), row 1 has 3.
const hidden = Float32Array.from([1, 1, 3, 5, 100, 100, 2, 0, 4, 2, 6, 4]);

describe('poolHidden', () => {
  it('means over real tokens including CLS, ignoring padding', () => {
    expect(Array.from(poolHidden(hidden, 2, 3, 2, [2, 3], { pooling: 'mean', includeCls: true, prefix: 1, normalize: false }))).toEqual([
      2, 3, 4, 2,
    ]);
  });
  it('excludes CLS when asked', () => {
    expect(Array.from(poolHidden(hidden, 2, 3, 2, [2, 3], { pooling: 'mean', includeCls: false, prefix: 1, normalize: false }))).toEqual([
      3, 5, 5, 3,
    ]);
  });
  it('takes CLS or the maximum', () => {
    expect(Array.from(poolHidden(hidden, 2, 3, 2, [2, 3], { pooling: 'cls', includeCls: true, prefix: 1, normalize: false }))).toEqual([
      1, 1, 2, 0,
    ]);
    expect(Array.from(poolHidden(hidden, 2, 3, 2, [2, 3], { pooling: 'max', includeCls: true, prefix: 1, normalize: false }))).toEqual([
      3, 5, 6, 4,
    ]);
  });
  it('L2-normalises', () => {
    const v = poolHidden(Float32Array.from([3, 4]), 1, 1, 2, [1], { pooling: 'mean', includeCls: true, prefix: 1, normalize: true });
    expect(Array.from(v)).toEqual([0.6000000238418579, 0.800000011920929]);
  });
  it('averages the windows of one sequence', () => {
    const merged = mergeWindows(['a', 'a', 'b'], Float32Array.from([1, 3, 3, 5, 9, 9]), 2, false);
    expect(merged.ids).toEqual(['a', 'b']);
    expect(Array.from(merged.flat)).toEqual([2, 4, 9, 9]);
  });
});

describe('kmerProfile', () => {
  it('counts k-mers and skips those containing N', () => {
    const v = kmerProfile('AACNAA', 2, false, 'none');
    expect(v[0]).toBe(2); // AA twice
    expect(v[1]).toBe(1); // AC
    expect(v.reduce((a, b) => a + b, 0)).toBe(3);
  });
  it('folds reverse complements onto one canonical k-mer', () => {
    const v = kmerProfile('AAATTT', 3, true, 'none');
    expect(v[0]).toBe(2); // AAA and its reverse complement TTT
  });
  it('normalises to unit length', () => {
    const v = kmerProfile('ACGTACGT', 3, false, 'l2');
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
  });
});
