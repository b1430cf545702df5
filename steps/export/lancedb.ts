// Owns the `export/lancedb` step: embeddings (and sequence metadata) into a real LanceDB table. Shards are
// written in groups, one commit each, idempotent across resume (a fresh attempt creates or overwrites the
// table, then appends; a resumed one merges on id), so a crash at any point never loses or duplicates rows. Indexes come last, and the provenance needed to embed queries (`strand search`) is
// written beside the table. A gs:// uri is written by LanceDB's own object store, with the storage
// options (endpoint, credentials) DataAccess gives.
import type { Table } from '@lancedb/lancedb';
import type { FixedSizeList, Table as ArrowTable } from 'apache-arrow';
import { arrow, defineStep, StepError, writeProvenance } from '../../engine/index.js';
import { EXPORT_INPUTS, exportShard } from './export-rows.js';
import { createAnnIndex, createScalarIndexes, type AnnParams } from './lancedb-indexes.js';

/** A group of shards is written in one commit once it holds `commit_rows` rows, or this many bytes. */
const GROUP_BYTES = 64 * 1024 * 1024;

/** Same column names and types (nullability aside: LanceDB makes every column nullable). */
function sameColumns(a: ArrowTable, b: ArrowTable): boolean {
  const columns = (t: ArrowTable): string => t.schema.fields.map((f) => `${f.name}:${String(f.type)}`).join(',');
  return columns(a) === columns(b);
}

/** One table of the shards' rows in order (a column nullable if it is in any shard). */
function concatRows(tables: readonly ArrowTable[]): ArrowTable {
  if (tables.length === 1) return tables[0]!;
  const fields = tables[0]!.schema.fields.map(
    (f, i) =>
      new arrow.Field(
        f.name,
        f.type,
        tables.some((t) => t.schema.fields[i]!.nullable),
      ),
  );
  return new arrow.Table(new arrow.Schema(fields), ...tables.flatMap((t) => t.batches));
}

export interface LanceParams {
  uri: string;
  table: string;
  mode: 'create' | 'overwrite' | 'append';
  include_sequence: boolean;
  ann_min_rows: number;
  commit_rows: number;
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
      commit_rows: {
        type: 'integer',
        minimum: 1,
        default: 8192,
        description:
          'rows per LanceDB commit: consecutive shards are written together up to this many (execution setting, not in the cache key)',
      },
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
  execution: ['commit_rows'],
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
    // Shards are written in groups of consecutive shards, one LanceDB commit each (a commit costs about the
    // same for 250 rows as for 8,000, and each is a fragment and a version of the table), each shard
    // recorded done (`once`) after its group's commit. An attempt that starts afresh writes shard 0 first,
    // creating or overwriting the table, so whatever an earlier attempt committed is gone and the later
    // groups are appended (which joins nothing, and writes the same rows in the same order as a merge). An
    // attempt that resumes may find any of its groups committed but unrecorded, however an earlier attempt
    // cut them: it merges every group on id (idempotent). `append` mode always merges on id.
    const resuming = Array.from({ length: embeddings.shardCount }, (_, i) => ctx.onceDone(`write-shard-${i}`)).includes(true);
    const merge = p.mode === 'append' || resuming;
    // One handle for every commit (opening a table reads its manifest); it follows its own commits.
    let table: Table | undefined;
    const commit = async (first: number, data: ArrowTable): Promise<void> => {
      if (first === 0 && p.mode !== 'append') {
        if (p.mode === 'create' && (await exists())) {
          throw new StepError(`table ${p.table} already exists in ${p.uri}`, 'use mode: overwrite to replace it, or mode: append');
        }
        table?.close();
        table = await db.createTable(p.table, data, { mode: 'overwrite' });
        return;
      }
      table ??= (await exists()) ? await db.openTable(p.table) : undefined;
      if (table === undefined) table = await db.createTable(p.table, data, { mode: 'create' });
      else if (merge) await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
      else await table.add(data);
    };
    let group: { index: number; rows: ArrowTable }[] = [];
    let groupRows = 0;
    let groupBytes = 0;
    const writeGroup = async (): Promise<void> => {
      if (group.length === 0) return;
      const written = group;
      group = [];
      groupRows = 0;
      groupBytes = 0;
      await commit(written[0]!.index, concatRows(written.map((g) => g.rows)));
      // Recorded together: the log appends them in order, with one fsync.
      await Promise.all(written.map((g) => ctx.once(`write-shard-${g.index}`, async () => {})));
      ctx.progress({ done: written.at(-1)!.index + 1, total: embeddings.shardCount, unit: 'shards' });
    };
    for (let index = 0; index < embeddings.shardCount && !ctx.signal.aborted; index++) {
      if (ctx.onceDone(`write-shard-${index}`)) {
        await writeGroup();
        await ctx.once(`write-shard-${index}`, async () => {}); // reported as resumed
        continue;
      }
      const rows = await exportShard(embeddings, metadata, index, p.include_sequence);
      if (group.length > 0 && !sameColumns(group[0]!.rows, rows)) await writeGroup();
      group.push({ index, rows });
      groupRows += rows.numRows;
      groupBytes += rows.data.reduce((n, d) => n + d.byteLength, 0);
      if (groupRows >= p.commit_rows || groupBytes >= GROUP_BYTES) await writeGroup();
    }
    if (!ctx.signal.aborted) await writeGroup();
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
