// Owns shrinking wide vectors before the map's PCA: a seeded Gaussian random projection to a few
// dozen dimensions (Johnson–Lindenstrauss: distances, and so the leading components' scatter, are
// kept approximately). ml-pca on 4,096-dimensional k-mer profiles took 55 s for 500 vectors here;
// on the sketch it takes about a second for 5,000. Seeded, so a report is the same every time.
import { seededRandom } from '../../steps/seeded-random.js';

/** Vectors of more dimensions than this are sketched down to it. */
export const SKETCH_DIMENSIONS = 64;

function gaussian(random: () => number): number {
  // Box–Muller; 1 - u keeps the logarithm finite.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Rows of `dim` values projected to `dims` values each (rows given as flat Float32Arrays). */
export function sketchVectors(rows: readonly Float32Array[], dim: number, dims: number, seed = 1): number[][] {
  const random = seededRandom(seed);
  const projection = new Float64Array(dim * dims);
  for (let i = 0; i < projection.length; i++) projection[i] = gaussian(random) / Math.sqrt(dims);
  return rows.map((row) => {
    const out = new Array<number>(dims).fill(0);
    for (let j = 0; j < dim; j++) {
      const v = row[j]!;
      if (v === 0) continue; // k-mer profiles are mostly zeros
      const base = j * dims;
      for (let k = 0; k < dims; k++) out[k]! += v * projection[base + k]!;
    }
    return out;
  });
}
