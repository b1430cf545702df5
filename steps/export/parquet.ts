// Owns the `export/parquet` step: vectors and metadata into one Parquet file (row groups of up to 1,000 rows,
// vectors as a LIST<FLOAT> column, written as they come) or an Arrow IPC file (assembled in memory), written
// through the engine's DataOutput: locally the atomic writer, on gs:// one object written once
// (ifGenerationMatch: 0) and verified — a half-written file never takes the final name.
import type { RecordBatch, Table } from 'apache-arrow';
// hyparquet-writer loads when the step runs, not when the built-in steps are listed (`strand validate`).
import type { ParquetWriter } from 'hyparquet-writer';
import { defineStep, arrow } from '../../engine/index.js';
import { readText, readVectors } from '../arrow-columns.js';
import { EXPORT_INPUTS, exportShard } from './export-rows.js';

const ROW_GROUP = 1000;

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

function parquetSchema(table: Table): SchemaElement[] {
  const fields = table.schema.fields;
  const elements: SchemaElement[] = [{ name: 'root', num_children: fields.length }];
  for (const field of fields) {
    if (field.name === 'vector') {
      elements.push({ name: 'vector', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 });
      elements.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      elements.push({ name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' });
    } else if (String(field.type) === 'Utf8') {
      elements.push({ name: field.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    } else if (String(field.type) === 'Bool') {
      elements.push({ name: field.name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' });
    } else {
      elements.push({ name: field.name, type: 'DOUBLE', repetition_type: 'OPTIONAL' });
    }
  }
  return elements;
}

function columnData(table: Table): { name: string; data: unknown[] }[] {
  return table.schema.fields.map((field) => {
    if (field.name === 'vector') {
      const { flat, dim } = readVectors(table, 'vector');
      return { name: 'vector', data: Array.from({ length: table.numRows }, (_, i) => Array.from(flat.subarray(i * dim, (i + 1) * dim))) };
    }
    if (String(field.type) === 'Utf8') return { name: field.name, data: readText(table, field.name) };
    if (String(field.type) === 'Bool')
      return { name: field.name, data: Array.from(table.getChild(field.name)!.toArray() as ArrayLike<boolean | null>) };
    return {
      name: field.name,
      data: Array.from(table.getChild(field.name)!.toArray() as ArrayLike<number | bigint | null>, (v) => (v === null ? null : Number(v))),
    };
  });
}

export const parquetExport = defineStep<{ path: string; format: 'parquet' | 'arrow'; include_sequence: boolean }>({
  id: 'export/parquet',
  version: '1',
  description: 'Write vectors and metadata to a Parquet (or Arrow IPC) file.',
  with: {
    required: ['path'],
    properties: {
      path: {
        type: 'string',
        'x-strand-path': 'output',
        'x-strand-uri': ['gs'],
        description: 'a file, or a gs://bucket/name object (written once: never replaces one)',
      },
      format: { enum: ['parquet', 'arrow'], default: 'parquet' },
      include_sequence: { type: 'boolean', default: true },
    },
  },
  inputs: EXPORT_INPUTS,
  outputs: {},
  async run(ctx) {
    const embeddings = ctx.input('embeddings');
    const metadata = ctx.optionalInput('metadata');
    // Local: the atomic writer (openAtomicFile) behind DataAccess; gs://: an object written once and verified.
    const { ByteWriter, ParquetWriter } = await import('hyparquet-writer');
    const file = await ctx.data.createOutput(ctx.params.path);
    let rows = 0;
    try {
      const format = ctx.params.format;
      let parquet: ParquetWriter | undefined;
      const bytes = new ByteWriter();
      const arrowBatches: RecordBatch[] = [];
      const flushBytes = async (): Promise<void> => {
        // A copy: the writer reuses its buffer, and an upload may still hold the chunk.
        await file.write(new Uint8Array(bytes.buffer, 0, bytes.index).slice());
        bytes.index = 0;
      };
      for (let index = 0; index < embeddings.shardCount; index++) {
        if (ctx.signal.aborted) {
          file.abort();
          return;
        }
        const table = await exportShard(embeddings, metadata, index, ctx.params.include_sequence);
        rows += table.numRows;
        if (format === 'arrow') {
          arrowBatches.push(...table.batches);
        } else {
          parquet ??= new ParquetWriter({ writer: bytes, schema: parquetSchema(table) });
          // Row groups of at most ROW_GROUP rows: the writer's per-value JS arrays stay small.
          for (let start = 0; start < table.numRows; start += ROW_GROUP) {
            const slice = table.slice(start, start + ROW_GROUP);
            await parquet.write({ columnData: columnData(slice), rowGroupSize: slice.numRows });
            await flushBytes();
          }
        }
        ctx.progress({ done: index + 1, total: embeddings.shardCount, unit: 'shards' });
      }
      if (arrowBatches.length > 0) await file.write(arrow.tableToIPC(new arrow.Table(arrowBatches), 'file'));
      if (parquet) {
        await parquet.finish();
        await flushBytes();
      }
      await file.commit();
    } catch (error) {
      file.abort();
      throw error;
    }
    ctx.recordExternalOutput(ctx.params.path);
    return { rows };
  },
});
