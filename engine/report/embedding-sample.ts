// Owns choosing which vectors a report's embedding map shows: all of them up to `limit`, past it the
// `limit` ids with the smallest SHA-256 — deterministic, the same ids whatever the shard layout, and
// kept while streaming (memory bounded by about twice the limit).
import { sha256 } from '../util/sha256.js';

export interface SampledVector {
  id: string;
  vector: Float32Array;
}

export class EmbeddingSample {
  private kept: { rank: string; row: SampledVector }[] = [];
  total = 0;

  constructor(readonly limit: number) {}

  add(id: string, vector: Float32Array): void {
    this.total++;
    this.kept.push({ rank: sha256(id), row: { id, vector } });
    if (this.kept.length >= 2 * this.limit) this.trim();
  }

  /** The sample in rank order (a stable, shard-independent order). */
  rows(): SampledVector[] {
    this.trim();
    return this.kept.map((k) => k.row);
  }

  private trim(): void {
    this.kept.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
    this.kept.length = Math.min(this.kept.length, this.limit);
  }
}
