import { describe, expect, it } from 'vitest';
import { accuracyAndMacroF1 } from '../../steps/finetune/classification-metrics.js';
import {
  adamwStep,
  decayMask,
  forward,
  headLayout,
  initParams,
  learningRate,
  lossAndGradients,
  nonzeroIndices,
} from '../../steps/finetune/head-model.js';
import { splitExamples } from '../../steps/finetune/split.js';
import { buildLabels, isPlaceholder, knownPaths } from '../../steps/finetune/taxonomy-labels.js';
import { decodeTrainingState, encodeTrainingState } from '../../steps/finetune/training-state.js';
import { decodeLineage } from '../../steps/classify/decode-lineage.js';
import { seededRandom } from '../../steps/seeded-random.js';

function numericGradientCheck(hidden: number): number {
  const layout = headLayout({ dim: 5, hidden, classes: [3, 4] });
  const params = initParams(layout, seededRandom(3));
  const random = seededRandom(9);
  const x = Float64Array.from({ length: 4 * 5 }, () => random() * 2 - 1);
  const labels = [Int32Array.from([0, 2, -1, 1]), Int32Array.from([3, -1, 1, 0])];
  const weights = [2, 0.6];
  const batch = [0, 1, 2, 3];
  const grads = new Float64Array(layout.size);
  lossAndGradients(layout, params, x, labels, batch, weights, grads);
  const scratch = new Float64Array(layout.size);
  let worst = 0;
  for (let i = 0; i < layout.size; i++) {
    const h = 1e-6;
    const saved = params[i]!;
    params[i] = saved + h;
    const up = lossAndGradients(layout, params, x, labels, batch, weights, scratch);
    params[i] = saved - h;
    const down = lossAndGradients(layout, params, x, labels, batch, weights, scratch);
    params[i] = saved;
    const numeric = (up - down) / (2 * h);
    worst = Math.max(worst, Math.abs(numeric - grads[i]!) / Math.max(1e-6, Math.abs(numeric) + Math.abs(grads[i]!)));
  }
  return worst;
}

describe('taxonomy head math', () => {
  it('has gradients that match finite differences, linear and with a hidden layer', () => {
    expect(numericGradientCheck(0)).toBeLessThan(1e-6);
    expect(numericGradientCheck(6)).toBeLessThan(1e-6);
  });

  it('gives bit-identical loss and gradients when only non-zero inputs are visited', () => {
    for (const hidden of [0, 4]) {
      const layout = headLayout({ dim: 6, hidden, classes: [3] });
      const params = initParams(layout, seededRandom(5));
      const x = Float64Array.from([0, 0.5, 0, 0, -1, 0, 0.25, 0, 0, 0, 0, 2]);
      const labels = [Int32Array.from([2, 0])];
      const dense = new Float64Array(layout.size);
      const sparse = new Float64Array(layout.size);
      const a = lossAndGradients(layout, params, x, labels, [0, 1], [1], dense);
      const b = lossAndGradients(layout, params, x, labels, [0, 1], [1], sparse, nonzeroIndices(x, 6, 2));
      expect(b).toBe(a);
      expect(Array.from(sparse)).toEqual(Array.from(dense));
    }
  });

  it('outputs a probability distribution per level', () => {
    const layout = headLayout({ dim: 3, hidden: 4, classes: [2, 5] });
    const { probs } = forward(layout, initParams(layout, seededRandom(1)), [0.5, -1, 2], 0);
    expect(probs.map((p) => p.length)).toEqual([2, 5]);
    for (const p of probs) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('takes an AdamW step with decoupled weight decay on weights only', () => {
    const layout = headLayout({ dim: 1, hidden: 0, classes: [1] }); // one weight, one bias
    const params = Float64Array.from([1, 1]);
    const state = { step: 0, m: new Float64Array(2), v: new Float64Array(2) };
    adamwStep(params, Float64Array.from([0.5, 0.5]), state, 0.1, 0.01, decayMask(layout));
    // First step: m/c1 = g, sqrt(v/c2) = |g|, so each moves by lr (plus lr * wd * w for the weight).
    expect(params[0]).toBeCloseTo(1 - 0.1 * (1 + 0.01), 6);
    expect(params[1]).toBeCloseTo(1 - 0.1, 6);
  });

  it('warms up linearly, then decays by a cosine to zero', () => {
    expect(learningRate(5, 1, 10, 110)).toBe(0.5);
    expect(learningRate(10, 1, 10, 110)).toBe(1);
    expect(learningRate(60, 1, 10, 110)).toBeCloseTo(0.5, 12);
    expect(learningRate(110, 1, 10, 110)).toBeCloseTo(0, 12);
  });

  it('round-trips a training checkpoint exactly', () => {
    const params = Float64Array.from([Math.PI, -0.1, 1e-300]);
    const bytes = encodeTrainingState({ step: 7, header: { note: 'x' }, params, m: params.map((v) => v / 3), v: params.map((v) => v * v) });
    const back = decodeTrainingState<{ note: string }>(bytes);
    expect(back.step).toBe(7);
    expect(back.header).toEqual({ note: 'x' });
    expect(Array.from(back.params)).toEqual(Array.from(params));
    expect(Array.from(back.v)).toEqual(Array.from(params.map((v) => v * v)));
  });
});

describe('labels, splits and metrics', () => {
  it('masks placeholder labels unless kept', () => {
    expect(['Candida_sp', 'Incertae_sedis', 'Fungi_gen_Incertae_sedis', 'unidentified', 'Candida_albicans'].map(isPlaceholder)).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
    const set = buildLabels(['genus'], [['Candida', 'Candida_sp', null, 'Pichia']], false);
    expect(Array.from(set.labels[0]!)).toEqual([0, -1, -1, 1]);
    expect(set.classes[0]).toEqual(['Candida', 'Pichia']);
    expect(Array.from(buildLabels(['genus'], [['Candida_sp']], true).labels[0]!)).toEqual([0]);
  });

  it('splits deterministically, and keeps each group wholly on one side', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `g${i % 20}`);
    const a = splitExamples(keys, 0.25, 1);
    expect(splitExamples(keys, 0.25, 1)).toEqual(a);
    const valGroups = new Set(a.val.map((i) => keys[i]));
    expect(a.train.some((i) => valGroups.has(keys[i]))).toBe(false);
    expect(valGroups.size).toBeGreaterThan(0);
  });

  it('computes accuracy and macro-F1 over labelled examples', () => {
    const m = accuracyAndMacroF1([0, 0, 1, 1], [0, 1, 1, -1], 2);
    expect(m.count).toBe(3);
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 2 / 3) / 2, 12); // class 0: tp1 fp1; class 1: tp1 fn1
  });

  it('decodes the most probable lineage that exists in training', () => {
    // family 0 holds genus 0; family 1 holds genus 1. Per-level argmax would give family 0 + genus 1.
    const paths = knownPaths([Int32Array.from([0, 1]), Int32Array.from([0, 1])], [0, 1]);
    const decoded = decodeLineage([Float32Array.from([0.55, 0.45]), Float32Array.from([0.1, 0.9])], paths);
    expect(decoded.path).toEqual([1, 1]);
    expect(decoded.confidence[0]).toBeCloseTo(0.45, 6);
  });
});
