// Owns the `source/parquet` step: Parquet files (a path or glob) into `sequences` shards, read with
// hyparquet one row group at a time (memory bounded by the row group, whatever the file size).
import { relative } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema, type FileMetaData } from 'hyparquet';
import { defineStep, globFiles, StepError } from '../../engine/index.js';
import { HYGIENE_DEFAULTS, HYGIENE_SCHEMA, writeSequenceShards, type HygieneParams, type MetadataColumn, type SourceRecord } from './sequence-shards.js';

interface ParquetParams extends HygieneParams {
  path: string;
  id_column?: string;
  sequence_column?: string;
  /** Columns passed through; default every other column. */
  metadata?: string[];
}

const NUMERIC = new Set(['INT32', 'INT64', 'FLOAT', 'DOUBLE']);

async function openParquet(path: string, label: string): Promise<{ file: Awaited<ReturnType<typeof asyncBufferFromFile>>; metadata: FileMetaData }> {
  try {
    const file = await asyncBufferFromFile(path);
    return { file, metadata: await parquetMetadataAsync(file) };
  } catch (error) {
    throw new StepError(`${label} is not a readable Parquet file (${(error as Error).message})`, 'the file may be truncated or not Parquet; re-export it');
  }
}

function toCell(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'string') return value;
  return String(value);
}

export const parquetSource = defineStep<ParquetParams>({
  id: 'source/parquet',
  version: '1',
  description: 'Read Parquet files into sequence shards, mapping id, sequence and metadata columns.',
  with: {
    required: ['path'],
    properties: {
      path: { type: 'string', 'x-strand-path': 'input', description: 'a file or glob (data/*.parquet)' },
      id_column: { type: 'string', default: 'id' },
      sequence_column: { type: 'string', default: 'sequence' },
      metadata: { type: 'array', items: { type: 'string' }, description: 'columns passed through (default: all others)' },
      ...HYGIENE_SCHEMA,
    },
  },
  inputs: {},
  outputs: { sequences: { type: 'sequences' } },
  async run(ctx) {
    const p = { ...HYGIENE_DEFAULTS, id_column: 'id', sequence_column: 'sequence', ...ctx.params };
    const files = globFiles(p.path, ctx.workdir);
    if (files.length === 0) throw new StepError(`no file matches ${p.path}`, 'check the path (relative to where you run strand)');
    const first = await openParquet(files[0]!, relative(ctx.workdir, files[0]!));
    const fields = parquetSchema(first.metadata).children.map((c) => c.element);
    const names = fields.map((f) => f.name);
    const wanted = p.metadata ?? names.filter((n) => n !== p.id_column && n !== p.sequence_column);
    const columns: MetadataColumn[] = wanted.map((name) => ({ name, kind: NUMERIC.has(fields.find((f) => f.name === name)?.type ?? '') ? 'number' : 'text' }));
    async function* records(): AsyncGenerator<SourceRecord> {
      for (const path of files) {
        const label = relative(ctx.workdir, path);
        const { file, metadata } = path === files[0] ? first : await openParquet(path, label);
        const present = parquetSchema(metadata).children.map((c) => c.element.name);
        const missing = [p.id_column, p.sequence_column, ...wanted].filter((c) => !present.includes(c));
        if (missing.length > 0) throw new StepError(`${label} has no column ${missing.map((m) => `"${m}"`).join(', ')}`, `its columns: ${present.join(', ')}; map them with id_column, sequence_column and metadata`);
        let rowStart = 0;
        for (const group of metadata.row_groups) {
          const rowEnd = rowStart + Number(group.num_rows);
          let rows: Record<string, unknown>[];
          try {
            rows = await parquetReadObjects({ file, metadata, columns: [p.id_column, p.sequence_column, ...wanted], rowStart, rowEnd });
          } catch (error) {
            throw new StepError(`${label}: cannot read rows ${rowStart}..${rowEnd} (${(error as Error).message})`, 'the file is corrupt or truncated');
          }
          for (let i = 0; i < rows.length; i++) {
            const row = rows[i]!;
            const id = row[p.id_column];
            const sequence = row[p.sequence_column];
            if (typeof sequence !== 'string') throw new StepError(`${label} row ${rowStart + i + 1}: column ${p.sequence_column} is not text`, 'point sequence_column at a string column');
            if (id === null || id === undefined) throw new StepError(`${label} row ${rowStart + i + 1}: the id is empty`, 'every record needs an id');
            yield { id: String(id), sequence, metadata: Object.fromEntries(wanted.map((c) => [c, toCell(row[c])])), where: `${label} row ${rowStart + i + 1}` };
          }
          rowStart = rowEnd;
        }
      }
    }
    return writeSequenceShards(ctx, records(), columns, p, { source: 'parquet', files: files.map((f) => relative(ctx.workdir, f)) });
  },
});
