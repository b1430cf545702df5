// Owns classification metrics per level: accuracy and macro-F1 over the examples with a label.

export function accuracyAndMacroF1(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
  classes: number,
): { accuracy: number; macroF1: number; count: number } {
  const tp = new Float64Array(classes);
  const fp = new Float64Array(classes);
  const fn = new Float64Array(classes);
  let correct = 0;
  let count = 0;
  for (let i = 0; i < truth.length; i++) {
    const y = truth[i]!;
    if (y < 0) continue;
    const p = predicted[i]!;
    count++;
    if (p === y) {
      correct++;
      tp[y]!++;
    } else {
      fn[y]!++;
      if (p >= 0) fp[p]!++;
    }
  }
  let f1Sum = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    if (tp[c]! + fn[c]! === 0) continue; // classes absent from the truth do not count
    present++;
    const denom = 2 * tp[c]! + fp[c]! + fn[c]!;
    f1Sum += denom === 0 ? 0 : (2 * tp[c]!) / denom;
  }
  return { accuracy: count ? correct / count : 0, macroF1: present ? f1Sum / present : 0, count };
}
