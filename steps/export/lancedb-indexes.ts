// Owns the indexes export/lancedb builds on a table: a scalar (BTree) index on id and on each named metadata
// column, and an IVF-PQ vector index with parameters chosen from the rows and dimension as LanceDB advises
// (about sqrt(rows) partitions, dimension / 16 sub-vectors) unless given. bench/lancedb-where builds its
// tables with the same calls, so the latencies it reports are those of an exported table.
import type { Table } from '@lancedb/lancedb';

export interface AnnParams {
  kind: 'ivf_pq';
  partitions?: number;
  sub_vectors?: number;
}

/** A BTree index on each column (replacing one already there). */
export async function createScalarIndexes(table: Table, columns: readonly string[]): Promise<void> {
  const lancedb = await import('@lancedb/lancedb');
  for (const column of columns) await table.createIndex(column, { config: lancedb.Index.btree(), replace: true });
}

/** The IVF-PQ index on `vector`, for a table of `rows` vectors of `dim` dimensions. */
export async function createAnnIndex(table: Table, rows: number, dim: number | undefined, ann: AnnParams | undefined): Promise<void> {
  const lancedb = await import('@lancedb/lancedb');
  const subVectors = ann?.sub_vectors ?? (dim !== undefined && dim % 16 === 0 ? dim / 16 : undefined);
  await table.createIndex('vector', {
    config: lancedb.Index.ivfPq({
      numPartitions: ann?.partitions ?? Math.max(1, Math.round(Math.sqrt(rows))),
      ...(subVectors !== undefined ? { numSubVectors: subVectors } : {}),
    }),
    replace: true,
  });
}
