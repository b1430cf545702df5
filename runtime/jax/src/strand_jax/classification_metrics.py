"""Owns per-level classification metrics of an evaluation: accuracy and macro-F1 over the examples with a
label (-1 left out), macro-F1 over the classes present in the truth, with the definitions of
`steps/finetune/classification-metrics.ts` (which scores taxonomy-head), so the two steps' figures compare."""

from __future__ import annotations

import numpy as np


def accuracy_and_macro_f1(predicted: np.ndarray, truth: np.ndarray, classes: int) -> tuple[float, float, int]:
    known = truth >= 0
    y, p = truth[known], predicted[known]
    count = int(known.sum())
    if count == 0:
        return 0.0, 0.0, 0
    tp = np.bincount(y[p == y], minlength=classes).astype(np.float64)
    fn = np.bincount(y[p != y], minlength=classes).astype(np.float64)
    wrong = p[(p != y) & (p >= 0)]
    fp = np.bincount(wrong, minlength=classes)[:classes].astype(np.float64)
    present = (tp + fn) > 0
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return float((p == y).mean()), float(f1[present].mean()) if present.any() else 0.0, count
