// Owns the nearest-neighbour query `strand search` runs on a LanceDB table: the k rows nearest a vector,
// among those that pass a SQL filter when one is given (LanceDB filters before the search: a prefilter, so
// the k nearest that pass, not the passing few of the k nearest). bench/lancedb-where times this function.
import type { Table } from '@lancedb/lancedb';

export async function nearestRows(table: Table, vector: Float32Array, k: number, where?: string): Promise<Record<string, unknown>[]> {
  const search = table.search(Array.from(vector)).limit(k);
  return (await (where === undefined ? search : search.where(where)).toArray()) as Record<string, unknown>[];
}
