// The two implementations of per-level metrics agree: steps/finetune/classification-metrics.ts (taxonomy-head)
// and runtime/jax's classification_metrics.py (nt-lora), on the same predictions with masked labels, absent
// classes and predictions of classes absent from the truth.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pythonEnv } from '../../engine/jax/jax-process.js';
import { accuracyAndMacroF1 } from '../../steps/finetune/classification-metrics.js';
import { JAX_RUNTIME, jaxPython } from '../helpers/jax-runtime.js';
import { seededRandom } from '../../steps/seeded-random.js';

describe('classification metrics in TypeScript and Python', () => {
  it('give the same accuracy, macro-F1 and count', () => {
    const random = seededRandom(7);
    const cases = Array.from({ length: 20 }, (_, i) => {
      const classes = 2 + (i % 6);
      const n = 5 + i * 3;
      const truth = Array.from({ length: n }, () => (random() < 0.2 ? -1 : Math.floor(random() * (classes - 1))));
      const predicted = Array.from({ length: n }, () => Math.floor(random() * classes));
      return { classes, truth, predicted };
    });
    const script = `import json, sys, numpy as np
from strand_jax.classification_metrics import accuracy_and_macro_f1
cases = json.load(sys.stdin)
print(json.dumps([accuracy_and_macro_f1(np.array(c["predicted"]), np.array(c["truth"]), c["classes"]) for c in cases]))`;
    const out = execFileSync(jaxPython(), ['-c', script], {
      input: JSON.stringify(cases),
      env: pythonEnv(process.env),
      cwd: JAX_RUNTIME,
      encoding: 'utf8',
    });
    const python = JSON.parse(out) as [number, number, number][];
    cases.forEach((c, i) => {
      const ts = accuracyAndMacroF1(c.predicted, c.truth, c.classes);
      const [accuracy, macroF1, count] = python[i]!;
      expect(count).toBe(ts.count);
      expect(accuracy).toBeCloseTo(ts.accuracy, 12);
      expect(macroF1).toBeCloseTo(ts.macroF1, 12);
    });
  });
});
