// Owns nearest-neighbour search by brute force: for each query row, the closest reference row by
// Euclidean distance (for L2-normalised vectors the same order as cosine). Used by the 1-NN baseline
// and by novelty detection.

export interface VectorRows {
  flat: Float32Array;
  dim: number;
  /** Row indices to use; all rows when absent. */
  rows?: readonly number[];
}

export function nearestNeighbours(queries: VectorRows, references: VectorRows): { index: number; distance: number }[] {
  const dim = queries.dim;
  const all = (v: VectorRows) => v.rows ?? Array.from({ length: v.flat.length / v.dim }, (_, i) => i);
  const refs = all(references);
  return all(queries).map((q) => {
    let best = -1;
    let bestDistance = Infinity;
    const qBase = q * dim;
    for (const r of refs) {
      const rBase = r * dim;
      let d = 0;
      for (let k = 0; k < dim; k++) {
        const diff = queries.flat[qBase + k]! - references.flat[rBase + k]!;
        d += diff * diff;
      }
      if (d < bestDistance) {
        bestDistance = d;
        best = r;
      }
    }
    return { index: best, distance: Math.sqrt(bestDistance) };
  });
}
