// Owns the `export/lancedb` step: embeddings (and sequence metadata) into a real LanceDB table. Each
// shard is one commit, idempotent across resume (the first creates or overwrites the table, the first
// after a resume merges on id, the others append), so a crash at any point never loses or duplicates rows. Indexes come last, and the
// provenance needed to embed queries (`strand search`) is written beside the table. A gs:// uri is written
// by LanceDB's own object store, with the storage options (endpoint, credentials) DataAccess gives.
import type { Table } from '@lancedb/lancedb';
import type { FixedSizeList, Table as ArrowTable } from 'apache-arrow';
import { defineStep, StepError, writeProvenance } from '../../engine/index.js';
import { EXPORT_INPUTS, exportShard } from './export-rows.js';
import { createAnnIndex, createScalarIndexes, type AnnParams } from './lancedb-indexes.js';

export interface LanceParams {
  uri: string;
  table: string;
  mode: 'create' | 'overwrite' | 'append';
  include_sequence: boolean;
  ann_min_rows: number;
  index_columns?: string[];
  ann?: AnnParams;
}

export const lancedbExport = defineStep<LanceParams>({
  id: 'export/lancedb',
  version: '1',
  description: 'Write vectors and metadata to a LanceDB table, with a scalar index on id and an ANN index when large.',
  with: {
    required: ['uri', 'table'],
    properties: {
      uri: {
        type: 'string',
        'x-strand-path': 'output',
        'x-strand-uri': ['gs'],
        description: 'LanceDB directory (out/vectors.lancedb, or gs://bucket/vectors.lancedb)',
      },
      table: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
      mode: { enum: ['create', 'overwrite', 'append'], default: 'overwrite', description: 'create fails if the table exists' },
      include_sequence: { type: 'boolean', default: true, description: 'store the sequence text beside the vector' },
      ann_min_rows: { type: 'integer', minimum: 256, default: 10000, description: 'build an IVF-PQ vector index from this many rows' },
      index_columns: {
        type: 'array',
        items: { type: 'string' },
        uniqueItems: true,
        description: 'metadata columns to give a scalar (BTree) index, for fast `strand search --where` filters on them',
      },
      ann: {
        type: 'object',
        additionalProperties: false,
        required: ['kind'],
        properties: {
          kind: { const: 'ivf_pq' },
          partitions: { type: 'integer', minimum: 1, description: 'IVF partitions (default: the square root of the rows)' },
          sub_vectors: { type: 'integer', minimum: 1, description: 'PQ sub-vectors; must divide the dimension (default: dimension / 16)' },
        },
        description: 'the ANN index built from ann_min_rows rows, its parameters chosen from the rows and dimension unless given',
      },
    },
  },
  inputs: EXPORT_INPUTS,
  outputs: {},
  async run(ctx) {
    const p = ctx.params;
    process.env.LANCEDB_LOG ??= 'error'; // LanceDB's Rust logger warns on every new table
    const lancedb = await import('@lancedb/lancedb');
    const embeddings = ctx.input('embeddings');
    const metadata = ctx.optionalInput('metadata');
    if (p.index_columns !== undefined && embeddings.shardCount > 0) {
      // Checked on the first shard's columns before anything is written.
      const columns = (await exportShard(embeddings, metadata, 0, p.include_sequence)).schema.fields.map((f) => f.name);
      const unknown = p.index_columns.filter((c) => !columns.includes(c));
      if (unknown.length > 0)
        throw new StepError(
          `index_columns: ${unknown.map((c) => `"${c}"`).join(', ')} ${unknown.length === 1 ? 'is not a column' : 'are not columns'} of the rows written to table ${p.table}`,
          `its columns: ${columns.filter((c) => c !== 'vector').join(', ')}`,
        );
    }
    const location = ctx.data.lanceLocation(p.uri);
    const db = await lancedb.connect(location.uri, { storageOptions: location.storageOptions });
    const exists = async (): Promise<boolean> => (await db.tableNames()).includes(p.table);
    const dim = embeddings.meta.dim as number | undefined;
    if ((p.mode === 'append' || p.mode === 'create') && (await exists())) {
      const table = await db.openTable(p.table);
      const field = (await table.schema()).fields.find((f) => f.name === 'vector');
      const existingDim = field ? (field.type as FixedSizeList).listSize : undefined;
      if (p.mode === 'append' && existingDim !== dim) {
        throw new StepError(
          `table ${p.table} in ${p.uri} has ${existingDim}-dimensional vectors; these are ${dim}-dimensional`,
          'write to another table, or use mode: overwrite',
        );
      }
      table.close();
    }
    // Shards are committed in order, each recorded as done once committed: an earlier attempt can have left
    // committed but unrecorded only the shard it was writing when it stopped, the first this attempt writes.
    // That one is merged on id (idempotent); the next ones are appended, which is much cheaper than a merge
    // (it joins nothing) and writes the same rows in the same order. `append` mode always merges on id.
    let merge = true;
    // One handle for every shard (opening a table reads its manifest); it follows its own commits.
    let table: Table | undefined;
    const commit = async (index: number, data: ArrowTable): Promise<void> => {
      if (index === 0 && p.mode !== 'append') {
        if (p.mode === 'create' && (await exists())) {
          throw new StepError(`table ${p.table} already exists in ${p.uri}`, 'use mode: overwrite to replace it, or mode: append');
        }
        table?.close();
        table = await db.createTable(p.table, data, { mode: 'overwrite' });
        return;
      }
      table ??= (await exists()) ? await db.openTable(p.table) : undefined;
      if (table === undefined) table = await db.createTable(p.table, data, { mode: 'create' });
      else if (merge || p.mode === 'append') await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
      else await table.add(data);
    };
    // The next shard's rows are read (and their digests verified) while LanceDB commits this one.
    let next: { index: number; rows: Promise<ArrowTable> } | undefined;
    const rowsOf = (index: number): Promise<ArrowTable> =>
      next?.index === index ? next.rows : exportShard(embeddings, metadata, index, p.include_sequence);
    for (let index = 0; index < embeddings.shardCount && !ctx.signal.aborted; index++) {
      const outcome = await ctx.once(`write-shard-${index}`, async () => {
        const committing = commit(index, await rowsOf(index));
        if (index + 1 < embeddings.shardCount) {
          const rows = exportShard(embeddings, metadata, index + 1, p.include_sequence);
          rows.catch(() => undefined); // reported when that shard is written
          next = { index: index + 1, rows };
        }
        await committing;
      });
      if (outcome === 'produced') merge = false;
      ctx.progress({ done: index + 1, total: embeddings.shardCount, unit: 'shards' });
    }
    if (ctx.signal.aborted) {
      table?.close();
      return;
    }
    table ??= await db.openTable(p.table);
    const rows = await table.countRows();
    const written = table;
    await ctx.once('indexes', async () => {
      await createScalarIndexes(written, ['id', ...(p.index_columns ?? [])]);
      if (rows >= p.ann_min_rows) await createAnnIndex(written, rows, dim, p.ann);
    });
    table.close();
    await writeProvenance(ctx.data, p.uri, p.table, { embeddings: embeddings.meta, rows, written_by: `${ctx.stepId} (export/lancedb@1)` });
    db.close();
    ctx.recordExternalOutput(p.uri);
    return { rows, ann_index: rows >= p.ann_min_rows };
  },
});
