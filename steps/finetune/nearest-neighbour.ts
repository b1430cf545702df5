// Owns the 1-nearest-neighbour baseline: each query takes the labels of its closest reference vector
// (squared Euclidean distance; for L2-normalised vectors the same order as cosine).

export function nearestNeighbours(x: Float32Array, dim: number, queries: readonly number[], references: readonly number[]): { index: number; distance: number }[] {
  return queries.map((q) => {
    let best = -1;
    let bestDistance = Infinity;
    const qBase = q * dim;
    for (const r of references) {
      const rBase = r * dim;
      let d = 0;
      for (let k = 0; k < dim; k++) {
        const diff = x[qBase + k]! - x[rBase + k]!;
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
