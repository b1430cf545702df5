// Owns the Arrow layouts steps exchange (shared by every built-in step and `strand search`):
// text columns, token-id lists and fixed-size float32 vectors, built and read without per-row objects.
import type { FixedSizeList as FixedSizeListType, Table, Vector } from 'apache-arrow';
import type { InputArtifact } from '../engine/index.js';
import { arrow } from '../engine/index.js';

export function textColumn(values: readonly (string | null)[]): Vector {
  if (values.includes(null)) return arrow.vectorFromArray(values as (string | null)[], new arrow.Utf8());
  // No nulls (ids, sequences): the offsets and one UTF-8 buffer, written in place. The same column as
  // Arrow's builder makes (the same IPC bytes), without its copy of every value.
  const texts = values as readonly string[];
  const offsets = new Int32Array(texts.length + 1);
  for (let i = 0; i < texts.length; i++) offsets[i + 1] = offsets[i]! + Buffer.byteLength(texts[i]!, 'utf8');
  const data = Buffer.alloc(offsets[texts.length]!);
  for (let i = 0; i < texts.length; i++) data.write(texts[i]!, offsets[i]!, 'utf8');
  return arrow.makeVector(
    arrow.makeData({
      type: new arrow.Utf8(),
      length: texts.length,
      nullCount: 0,
      valueOffsets: offsets,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    }),
  );
}

export function numberColumn(values: readonly (number | null)[]): Vector {
  return arrow.vectorFromArray(values as (number | null)[]);
}

/** A List<Int32> column from one Int32Array per row. */
export function tokenListColumn(rows: readonly Int32Array[]): Vector {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i]! + r.length));
  const flat = new Int32Array(offsets[rows.length]!);
  rows.forEach((r, i) => flat.set(r, offsets[i]));
  const child = arrow.makeData({ type: new arrow.Int32(), length: flat.length, nullCount: 0, data: flat });
  return arrow.makeVector(
    arrow.makeData({
      type: new arrow.List(new arrow.Field('item', new arrow.Int32(), false)),
      length: rows.length,
      nullCount: 0,
      valueOffsets: offsets,
      child,
    }),
  );
}

/** A FixedSizeList<Float32>[dim] column from a flat row-major buffer. */
export function vectorColumn(flat: Float32Array, dim: number): Vector {
  const child = arrow.makeData({ type: new arrow.Float32(), length: flat.length, nullCount: 0, data: flat });
  return arrow.makeVector(
    arrow.makeData({
      type: new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), false)),
      length: flat.length / dim,
      nullCount: 0,
      child,
    }),
  );
}

export function readText(table: Table, name: string): string[] {
  const column = table.getChild(name);
  if (column === null) throw new Error(`column ${name} is missing`);
  if (!arrow.DataType.isUtf8(column.type) || column.nullCount > 0) return column.toArray() as string[];
  // Each value decoded straight from the column's buffer (Arrow's reader makes a view and a decoder call per value).
  const texts: string[] = [];
  for (const data of column.data) {
    const offsets = data.valueOffsets as Int32Array;
    const values = data.values as Uint8Array;
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    // A slice's offsets are sliced with it: value i of the slice starts at offsets[i].
    for (let i = 0; i < data.length; i++) texts.push(bytes.toString('utf8', offsets[i], offsets[i + 1]));
  }
  return texts;
}

/** The rows of a List<Int32> column as Int32Array views. */
export function readTokenLists(table: Table, name: string): Int32Array[] {
  const column = table.getChild(name);
  if (column === null) throw new Error(`column ${name} is missing`);
  const rows: Int32Array[] = [];
  for (const data of column.data) {
    const offsets = data.valueOffsets as Int32Array;
    const values = data.children[0]!.values as Int32Array;
    for (let i = 0; i < data.length; i++) rows.push(values.subarray(offsets[data.offset + i], offsets[data.offset + i + 1]));
  }
  return rows;
}

/** A FixedSizeList<Float32> column as one flat buffer, with its dimension. */
export function readVectors(table: Table, name: string): { flat: Float32Array; dim: number } {
  const column = table.getChild(name);
  if (column === null) throw new Error(`column ${name} is missing`);
  const dim = (column.type as FixedSizeListType).listSize;
  const flat = new Float32Array(column.length * dim);
  let row = 0;
  for (const data of column.data) {
    const values = data.children[0]!.values as Float32Array;
    flat.set(values.subarray(data.offset * dim, (data.offset + data.length) * dim), row * dim);
    row += data.length;
  }
  return { flat, dim };
}

/** Every row of an embeddings artifact: ids and one flat buffer of vectors. */
export async function readAllVectors(input: InputArtifact): Promise<{ ids: string[]; flat: Float32Array; dim: number }> {
  const ids: string[] = [];
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let i = 0; i < input.shardCount; i++) {
    const table = await input.readShard(i);
    ids.push(...readText(table, 'id'));
    const v = readVectors(table, 'vector');
    dim = v.dim;
    parts.push(v.flat);
  }
  const flat = new Float32Array(ids.length * dim);
  let offset = 0;
  for (const p of parts) {
    flat.set(p, offset);
    offset += p.length;
  }
  return { ids, flat, dim };
}
