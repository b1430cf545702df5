// Owns pooling per-token hidden states into one vector per sequence: `mean` over real tokens
// (padding masked; CLS in or out by `include_cls`), `cls`, or `max`; optional L2 normalisation.

export type Pooling = 'mean' | 'cls' | 'max';

export interface PoolingRule {
  pooling: Pooling;
  /** Count the leading special tokens (CLS) in mean/max pooling. */
  includeCls: boolean;
  /** How many leading special tokens each row has. */
  prefix: number;
  normalize: boolean;
}

export function l2Normalize(vector: Float32Array): void {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
}

/**
 * @param hidden row-major [batch, tokens, dim]
 * @param lengths real (unpadded) token count per row
 */
export function poolHidden(
  hidden: Float32Array,
  batch: number,
  tokens: number,
  dim: number,
  lengths: ArrayLike<number>,
  rule: PoolingRule,
): Float32Array {
  const out = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    const vector = out.subarray(b * dim, (b + 1) * dim);
    const length = lengths[b]!;
    if (rule.pooling === 'cls') {
      vector.set(hidden.subarray(b * tokens * dim, b * tokens * dim + dim));
    } else {
      // A row of only special tokens still gets a vector: fall back to including them.
      const from = rule.includeCls || length <= rule.prefix ? 0 : rule.prefix;
      if (rule.pooling === 'max') vector.fill(-Infinity);
      for (let t = from; t < length; t++) {
        const base = (b * tokens + t) * dim;
        if (rule.pooling === 'max') for (let d = 0; d < dim; d++) vector[d] = Math.max(vector[d]!, hidden[base + d]!);
        else for (let d = 0; d < dim; d++) vector[d] = vector[d]! + hidden[base + d]!;
      }
      if (rule.pooling === 'mean') for (let d = 0; d < dim; d++) vector[d] = vector[d]! / (length - from);
    }
    if (rule.normalize) l2Normalize(vector);
  }
  return out;
}

/** Averages the vectors of consecutive rows that share an id (windows of one long sequence). */
export function mergeWindows(
  ids: readonly string[],
  flat: Float32Array,
  dim: number,
  normalize: boolean,
): { ids: string[]; flat: Float32Array } {
  // Most shards have no windows: then there is nothing to average (and no copy of each vector to make).
  if (ids.every((id, i) => i === 0 || id !== ids[i - 1])) return { ids: [...ids], flat };
  const outIds: string[] = [];
  const sums: Float32Array[] = [];
  const counts: number[] = [];
  ids.forEach((id, i) => {
    const row = flat.subarray(i * dim, (i + 1) * dim);
    if (outIds[outIds.length - 1] === id) {
      const sum = sums[sums.length - 1]!;
      for (let d = 0; d < dim; d++) sum[d] = sum[d]! + row[d]!;
      counts[counts.length - 1]!++;
    } else {
      outIds.push(id);
      sums.push(Float32Array.from(row));
      counts.push(1);
    }
  });
  if (outIds.length === ids.length) return { ids: outIds, flat };
  const out = new Float32Array(outIds.length * dim);
  sums.forEach((sum, i) => {
    const v = out.subarray(i * dim, (i + 1) * dim);
    for (let d = 0; d < dim; d++) v[d] = sum[d]! / counts[i]!;
    if (normalize) l2Normalize(v);
  });
  return { ids: outIds, flat: out };
}
