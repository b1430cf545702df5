// Owns the taxonomy head's math: parameters (an optional shared ReLU layer, then one linear classifier
// per level), the forward pass to per-level probabilities, the weighted cross-entropy loss with masked
// labels and its gradients (checked numerically by a test), and AdamW. Float64 throughout, so a resumed
// run reproduces an uninterrupted one bit for bit.

export interface HeadShape {
  dim: number;
  /** Width of the shared hidden layer; 0 for linear classifiers on the embedding. */
  hidden: number;
  classes: number[];
}

interface Block {
  weight: number;
  bias: number;
  rows: number;
  cols: number;
}

export interface HeadLayout {
  shape: HeadShape;
  hiddenBlock?: Block;
  levelBlocks: Block[];
  size: number;
}

export function headLayout(shape: HeadShape): HeadLayout {
  let offset = 0;
  const block = (rows: number, cols: number): Block => {
    const b = { weight: offset, bias: offset + rows * cols, rows, cols };
    offset += rows * cols + rows;
    return b;
  };
  const hiddenBlock = shape.hidden > 0 ? block(shape.hidden, shape.dim) : undefined;
  const width = shape.hidden > 0 ? shape.hidden : shape.dim;
  const levelBlocks = shape.classes.map((c) => block(c, width));
  return { shape, ...(hiddenBlock ? { hiddenBlock } : {}), levelBlocks, size: offset };
}

/** Seeded uniform init (Glorot-like scale), exact arithmetic only. */
export function initParams(layout: HeadLayout, random: () => number): Float64Array {
  const params = new Float64Array(layout.size);
  for (const b of [...(layout.hiddenBlock ? [layout.hiddenBlock] : []), ...layout.levelBlocks]) {
    const scale = Math.sqrt(6 / (b.rows + b.cols));
    for (let i = 0; i < b.rows * b.cols; i++) params[b.weight + i] = (random() * 2 - 1) * scale;
  }
  return params;
}

/**
 * out = W x + b. With `nonzero` (the indices where x is not 0, e.g. of a k-mer profile) only those
 * columns are visited; skipping exact zeros leaves every sum bit-identical.
 */
function linear(params: Float64Array, b: Block, x: ArrayLike<number>, xOffset: number, out: Float64Array, nonzero?: Int32Array): void {
  for (let r = 0; r < b.rows; r++) {
    let sum = params[b.bias + r]!;
    const row = b.weight + r * b.cols;
    if (nonzero) for (let k = 0; k < nonzero.length; k++) sum += params[row + nonzero[k]!]! * x[xOffset + nonzero[k]!]!;
    else for (let c = 0; c < b.cols; c++) sum += params[row + c]! * x[xOffset + c]!;
    out[r] = sum;
  }
}

/** Per example, the indices of its non-zero inputs (worth it when inputs are sparse). */
export function nonzeroIndices(x: ArrayLike<number>, dim: number, examples: number): Int32Array[] {
  return Array.from({ length: examples }, (_, e) => {
    const idx: number[] = [];
    for (let c = 0; c < dim; c++) if (x[e * dim + c] !== 0) idx.push(c);
    return Int32Array.from(idx);
  });
}

function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) max = Math.max(max, z[i]!);
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += z[i] = Math.exp(z[i]! - max);
  for (let i = 0; i < z.length; i++) z[i] = z[i]! / sum;
}

/** Per-level probabilities for one example (`x` at `offset`, length dim). */
export function forward(
  layout: HeadLayout,
  params: Float64Array,
  x: ArrayLike<number>,
  offset: number,
  nonzero?: Int32Array,
): { hidden: Float64Array | undefined; probs: Float64Array[] } {
  let h: Float64Array | undefined;
  let input: ArrayLike<number> = x;
  let inputOffset = offset;
  if (layout.hiddenBlock) {
    h = new Float64Array(layout.hiddenBlock.rows);
    linear(params, layout.hiddenBlock, x, offset, h, nonzero);
    for (let i = 0; i < h.length; i++) if (h[i]! < 0) h[i] = 0;
    input = h;
    inputOffset = 0;
  }
  const probs = layout.levelBlocks.map((b) => {
    const z = new Float64Array(b.rows);
    linear(params, b, input, inputOffset, z, h ? undefined : nonzero);
    softmaxInPlace(z);
    return z;
  });
  return { hidden: h, probs };
}

/**
 * Mean over the batch of Σ_level weight × cross-entropy (levels whose label is -1 are masked);
 * accumulates d loss / d params into `grads` (which it zeroes first). Returns the loss.
 */
export function lossAndGradients(
  layout: HeadLayout,
  params: Float64Array,
  x: ArrayLike<number>,
  labels: readonly Int32Array[],
  batch: readonly number[],
  weights: readonly number[],
  grads: Float64Array,
  nonzero?: readonly Int32Array[],
): number {
  grads.fill(0);
  const dim = layout.shape.dim;
  let loss = 0;
  const scale = 1 / batch.length;
  for (const example of batch) {
    const nz = nonzero?.[example];
    const { hidden, probs } = forward(layout, params, x, example * dim, nz);
    const input: ArrayLike<number> = hidden ?? x;
    const inputOffset = hidden ? 0 : example * dim;
    const dHidden = hidden ? new Float64Array(hidden.length) : undefined;
    layout.levelBlocks.forEach((b, level) => {
      const y = labels[level]![example]!;
      if (y < 0) return;
      const p = probs[level]!;
      const w = weights[level]!;
      loss -= w * Math.log(Math.max(p[y]!, 1e-300)) * scale;
      for (let r = 0; r < b.rows; r++) {
        const dz = w * (p[r]! - (r === y ? 1 : 0)) * scale;
        if (dz === 0) continue;
        grads[b.bias + r] = grads[b.bias + r]! + dz;
        const row = b.weight + r * b.cols;
        if (dHidden) {
          for (let c = 0; c < b.cols; c++) {
            grads[row + c] = grads[row + c]! + dz * input[inputOffset + c]!;
            dHidden[c] = dHidden[c]! + dz * params[row + c]!;
          }
        } else if (nz) {
          for (let k = 0; k < nz.length; k++) grads[row + nz[k]!] = grads[row + nz[k]!]! + dz * input[inputOffset + nz[k]!]!;
        } else {
          for (let c = 0; c < b.cols; c++) grads[row + c] = grads[row + c]! + dz * input[inputOffset + c]!;
        }
      }
    });
    if (layout.hiddenBlock && hidden && dHidden) {
      const b = layout.hiddenBlock;
      for (let r = 0; r < b.rows; r++) {
        if (hidden[r]! <= 0) continue; // ReLU
        const da = dHidden[r]!;
        grads[b.bias + r] = grads[b.bias + r]! + da;
        const row = b.weight + r * b.cols;
        const base = example * dim;
        if (nz) for (let k = 0; k < nz.length; k++) grads[row + nz[k]!] = grads[row + nz[k]!]! + da * x[base + nz[k]!]!;
        else for (let c = 0; c < b.cols; c++) grads[row + c] = grads[row + c]! + da * x[base + c]!;
      }
    }
  }
  return loss;
}

export interface AdamWState {
  step: number;
  m: Float64Array;
  v: Float64Array;
}

/** Whether each parameter is a weight (decayed) rather than a bias. */
export function decayMask(layout: HeadLayout): Uint8Array {
  const mask = new Uint8Array(layout.size);
  for (const b of [...(layout.hiddenBlock ? [layout.hiddenBlock] : []), ...layout.levelBlocks])
    mask.fill(1, b.weight, b.weight + b.rows * b.cols);
  return mask;
}

export function adamwStep(
  params: Float64Array,
  grads: Float64Array,
  state: AdamWState,
  lr: number,
  weightDecay: number,
  decay: Uint8Array,
  beta1 = 0.9,
  beta2 = 0.999,
  eps = 1e-8,
): void {
  state.step++;
  const c1 = 1 - beta1 ** state.step;
  const c2 = 1 - beta2 ** state.step;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i]!;
    const m = (state.m[i] = beta1 * state.m[i]! + (1 - beta1) * g);
    const v = (state.v[i] = beta2 * state.v[i]! + (1 - beta2) * g * g);
    params[i] = params[i]! - lr * (m / c1 / (Math.sqrt(v / c2) + eps) + (decay[i] ? weightDecay * params[i]! : 0));
  }
}

/** Linear warmup to `peak`, then cosine decay to 0 at `total` steps (step is 1-based). */
export function learningRate(step: number, peak: number, warmup: number, total: number): number {
  if (step <= warmup) return (peak * step) / Math.max(1, warmup);
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * 0.5 * (1 + Math.cos(Math.PI * progress));
}
