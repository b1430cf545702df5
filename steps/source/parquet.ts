// Owns the `source/parquet` step: Parquet files or gs:// objects (a path or glob) into `sequences` shards,
// read one row group at a time by ranged reads (memory bounded by the row group, whatever the file size).
import { defineStep, StepError } from '../../engine/index.js';
import { openParquet, readRowGroups } from './parquet-row-groups.js';
import {
  HYGIENE_SCHEMA,
  sourcePathSchema,
  sourceFiles,
  writeSequenceShards,
  type HygieneParams,
  type MetadataColumn,
  type SourceRecord,
} from './sequence-shards.js';

interface ParquetParams extends HygieneParams {
  path: string;
  id_column: string;
  sequence_column: string;
  /** Columns passed through; default every other column. */
  metadata?: string[];
}

const NUMERIC = new Set(['INT32', 'INT64', 'FLOAT', 'DOUBLE']);

function toCell(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'string') return value;
  // Timestamps come back as Date, nested and list columns as objects: text that does not depend on the locale.
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  return typeof value === 'boolean' ? String(value) : null;
}

export const parquetSource = defineStep<ParquetParams>({
  id: 'source/parquet',
  version: '1',
  description: 'Read Parquet files into sequence shards, mapping id, sequence and metadata columns.',
  with: {
    required: ['path'],
    properties: {
      path: sourcePathSchema('a file or glob (data/*.parquet, gs://bucket/prefix/*.parquet)'),
      id_column: { type: 'string', default: 'id' },
      sequence_column: { type: 'string', default: 'sequence' },
      metadata: { type: 'array', items: { type: 'string' }, description: 'columns passed through (default: all others)' },
      ...HYGIENE_SCHEMA,
    },
  },
  inputs: {},
  outputs: { sequences: { type: 'sequences' } },
  async countSequences(params, data) {
    let count = 0;
    for (const file of await data.inputFiles(params.path)) count += Number((await openParquet(file)).metadata.num_rows);
    return { count, how: 'counted from Parquet footers (rows before hygiene filters)', shards: Math.ceil(count / params.shard_rows) };
  },
  async run(ctx) {
    const p = ctx.params;
    const files = await sourceFiles(ctx, p.path);
    const first = await openParquet(files[0]);
    const wanted = p.metadata ?? first.columns.map((c) => c.name).filter((n) => n !== p.id_column && n !== p.sequence_column);
    const columns: MetadataColumn[] = wanted.map((name) => ({
      name,
      kind: NUMERIC.has(first.columns.find((c) => c.name === name)?.type ?? '') ? 'number' : 'text',
    }));
    async function* records(): AsyncGenerator<SourceRecord> {
      for (const file of files) {
        const label = file.label;
        const parquet = file === files[0] ? first : await openParquet(file);
        const present = parquet.columns.map((c) => c.name);
        const missing = [p.id_column, p.sequence_column, ...wanted].filter((c) => !present.includes(c));
        if (missing.length > 0)
          throw new StepError(
            `${label} has no column ${missing.map((m) => `"${m}"`).join(', ')}`,
            `its columns: ${present.join(', ')}; map them with id_column, sequence_column and metadata`,
          );
        for await (const { rowStart, rows } of readRowGroups(parquet, [p.id_column, p.sequence_column, ...wanted])) {
          for (let i = 0; i < rows.length; i++) {
            const row = rows[i]!;
            const id = row[p.id_column];
            const sequence = row[p.sequence_column];
            if (typeof sequence !== 'string')
              throw new StepError(
                `${label} row ${rowStart + i + 1}: column ${p.sequence_column} is not text`,
                'point sequence_column at a string column',
              );
            if (id === null || id === undefined)
              throw new StepError(`${label} row ${rowStart + i + 1}: the id is empty`, 'every record needs an id');
            yield {
              id: String(toCell(id)),
              sequence,
              metadata: Object.fromEntries(wanted.map((c) => [c, toCell(row[c])])),
              where: `${label} row ${rowStart + i + 1}`,
            };
          }
        }
      }
    }
    return writeSequenceShards(ctx, records(), columns, p, { source: 'parquet', files: files.map((f) => f.label) });
  },
});
