// Owns encoding ONNX models (ModelProto) as protobuf bytes, field by field from onnx.proto3, so the
// repository can build its own small models with no Python toolchain. Only what our graphs use, plus
// external data: tensors written to files beside the model (`model.onnx_data`, or one file per tensor),
// as torch.onnx and optimum export models over 2 GB. The one decoder of these fields is
// engine/onnx/decode-onnx-model.ts (the engine reads models; steps and scripts write them).

const enum WireType {
  Varint = 0,
  LengthDelimited = 2,
  Fixed32 = 5,
}

class ProtoWriter {
  private chunks: Uint8Array[] = [];

  private varint(value: bigint): void {
    const bytes: number[] = [];
    let v = BigInt.asUintN(64, value);
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.chunks.push(Uint8Array.from(bytes));
  }

  private tag(field: number, wire: WireType): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WireType.Varint);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.chunks.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited);
    this.varint(BigInt(value.length));
    this.chunks.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, writer: ProtoWriter): this {
    return this.bytes(field, writer.finish());
  }

  finish(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

export const TensorType = { FLOAT: 1, INT64: 7 } as const;

export interface Tensor {
  name: string;
  dims: number[];
  type: (typeof TensorType)[keyof typeof TensorType];
  data: Float32Array | BigInt64Array;
}

export type AttributeValue = number | number[] | string | { ints: number[] } | { float: number } | { tensor: Tensor };

export interface Node {
  op: string;
  /** The node's name (exporters write paths such as `/encoder/layer.0/attention/self/Reshape`); default `OP_INDEX`. */
  name?: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
}

export interface ValueInfo {
  name: string;
  type: (typeof TensorType)[keyof typeof TensorType];
  /** A number is a fixed size, a string a symbolic one (batch, sequence). */
  shape: (number | string)[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/** Where a tensor's bytes went when they are not inside the model: TensorProto.external_data. */
interface ExternalPlace {
  location: string;
  offset: number;
  length: number;
}

function tensorBytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function tensor(t: Tensor, external?: ExternalPlace): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type).string(8, t.name);
  if (external === undefined) return w.bytes(9, tensorBytes(t));
  for (const [key, value] of [
    ['location', external.location],
    ['offset', String(external.offset)],
    ['length', String(external.length)],
  ] as const) {
    w.message(13, new ProtoWriter().string(1, key).string(2, value));
  }
  return w.int(14, 1); // data_location = EXTERNAL
}

function attribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === 'string') return w.bytes(4, new TextEncoder().encode(value)).int(20, 3);
  if (typeof value === 'number') return w.int(3, value).int(20, 2);
  if (!Array.isArray(value) && 'tensor' in value) return w.message(5, tensor(value.tensor)).int(20, 4);
  if (Array.isArray(value) || 'ints' in value) {
    for (const v of Array.isArray(value) ? value : value.ints) w.int(8, v);
    return w.int(20, 7);
  }
  return w.float(2, value.float).int(20, 1);
}

function node(n: Node, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.op}_${index}`).string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attribute(k, v));
  return w;
}

function valueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, v.type).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

export function encodeModel(graph: Graph, opset: number, producer: string, metadata: Record<string, string> = {}): Uint8Array {
  return encode(graph, opset, producer, metadata, new Map());
}

export interface ExternalDataLayout {
  /** One file for every external tensor (`model.onnx_data`), or `per-tensor`: one file per tensor, named after it. */
  location: string;
  /** Tensors smaller than this many bytes stay inside the model (onnx's size_threshold; default 1024). */
  threshold?: number;
}

/** Offsets in a shared data file are aligned like onnx's writer, so a runtime may map them. */
const EXTERNAL_ALIGNMENT = 4096;

/**
 * Encodes a model whose large initializers live in external data files, as `onnx.save_model(...,
 * save_as_external_data=True)` writes them. Returns the model bytes and each data file by its location
 * (relative to the model's folder).
 */
export function encodeModelWithExternalData(
  graph: Graph,
  opset: number,
  producer: string,
  metadata: Record<string, string>,
  layout: ExternalDataLayout,
): { model: Uint8Array; files: Map<string, Uint8Array> } {
  const threshold = layout.threshold ?? 1024;
  const places = new Map<string, ExternalPlace>();
  const parts = new Map<string, Uint8Array[]>();
  const sizes = new Map<string, number>();
  for (const t of graph.initializers) {
    const bytes = tensorBytes(t);
    if (bytes.length < threshold) continue;
    const location = layout.location === 'per-tensor' ? t.name.replace(/[^A-Za-z0-9._-]/g, '_') : layout.location;
    const end = sizes.get(location) ?? 0;
    const offset = Math.ceil(end / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
    const chunks = parts.get(location) ?? [];
    if (offset > end) chunks.push(new Uint8Array(offset - end));
    chunks.push(bytes);
    parts.set(location, chunks);
    sizes.set(location, offset + bytes.length);
    places.set(t.name, { location, offset, length: bytes.length });
  }
  const files = new Map<string, Uint8Array>();
  for (const [location, chunks] of parts) files.set(location, Buffer.concat(chunks));
  return { model: encode(graph, opset, producer, metadata, places), files };
}

function encode(
  graph: Graph,
  opset: number,
  producer: string,
  metadata: Record<string, string>,
  external: ReadonlyMap<string, ExternalPlace>,
): Uint8Array {
  const g = new ProtoWriter();
  graph.nodes.forEach((n, i) => g.message(1, node(n, i)));
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, tensor(t, external.get(t.name)));
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  const model = new ProtoWriter()
    .int(1, 8) // ir_version 8 (ONNX 1.13+)
    .string(2, producer)
    .message(7, g)
    .message(8, new ProtoWriter().string(1, '').int(2, opset));
  for (const [key, value] of Object.entries(metadata)) model.message(14, new ProtoWriter().string(1, key).string(2, value));
  return model.finish();
}
