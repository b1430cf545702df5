// Owns the 2-D map of a run's embeddings: a PCA (ml-pca, from the covariance matrix) of the sampled
// vectors — of their random-projection sketch when they are wider than SKETCH_DIMENSIONS — each point
// with its taxon at the colour level, its lineage and the novel-candidate flag.
import { PCA } from 'ml-pca';
import { SKETCH_DIMENSIONS, sketchVectors } from './sketch-vectors.js';
import type { EmbeddingMap, MapPoint } from './report-model.js';
import type { SampledVector } from './embedding-sample.js';

/** What the run's sequence outputs say about one id. */
export interface LineageFacts {
  /** Taxon by level (`kingdom` … `species`), as the source labelled it (or, unlabelled, as predicted). */
  levels: Record<string, string | null>;
  novel: boolean;
}

export interface EmbeddingMapInput {
  step: string;
  rows: readonly SampledVector[];
  total: number;
  limit: number;
  level: string;
  levels: readonly string[];
  lineage: ReadonlyMap<string, LineageFacts>;
}

export function embeddingMap(input: EmbeddingMapInput): EmbeddingMap {
  const { rows } = input;
  const dim = rows[0]?.vector.length ?? 0;
  const coordinates = project(rows);
  const points = rows.map((row, i): MapPoint => {
    const facts = input.lineage.get(row.id);
    const lineage = facts ? input.levels.map((l) => facts.levels[l] ?? '?').join(' › ') : '(no lineage)';
    return {
      id: row.id,
      x: coordinates.xy[i]![0],
      y: coordinates.xy[i]![1],
      taxon: facts?.levels[input.level] ?? null,
      lineage,
      novel: facts?.novel ?? false,
    };
  });
  return {
    step: input.step,
    method: 'pca',
    level: input.level,
    total: input.total,
    sampled: rows.length,
    limit: input.limit,
    dim,
    ...(dim > SKETCH_DIMENSIONS ? { sketchedTo: SKETCH_DIMENSIONS } : {}),
    explainedVariance: coordinates.explained,
    points,
  };
}

function round(value: number): number {
  return Math.round(value * 1e5) / 1e5;
}

function project(rows: readonly SampledVector[]): { xy: [number, number][]; explained: [number, number] } {
  // PCA needs at least two distinct vectors; fewer put every point at the origin.
  if (rows.length < 3) return { xy: rows.map(() => [0, 0]), explained: [0, 0] };
  const width = rows[0]!.vector.length;
  const data =
    width > SKETCH_DIMENSIONS
      ? sketchVectors(
          rows.map((r) => r.vector),
          width,
          SKETCH_DIMENSIONS,
        )
      : rows.map((r) => Array.from(r.vector));
  // A 1-dimensional embedding has one component; the map then spreads its points along x alone.
  const components = Math.min(2, data[0]!.length);
  const pca = new PCA(data, { method: 'covarianceMatrix', center: true, scale: false });
  const projected = pca.predict(data, { nComponents: components }).to2DArray();
  // Each component's share of the whole variance (of the sketch, when sketched): the scores' sum of
  // squares over the centred data's.
  const dim = data[0]!.length;
  const mean = new Float64Array(dim);
  for (const row of data) for (let j = 0; j < dim; j++) mean[j]! += row[j]! / data.length;
  let total = 0;
  for (const row of data) for (let j = 0; j < dim; j++) total += (row[j]! - mean[j]!) ** 2;
  const share = (k: number): number => (total > 0 ? projected.reduce((sum, p) => sum + (p[k] ?? 0) ** 2, 0) / total : 0);
  const finite = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) ? round(v) : 0);
  return { xy: projected.map((p) => [finite(p[0]), finite(p[1])]), explained: [finite(share(0)), finite(share(1))] };
}
