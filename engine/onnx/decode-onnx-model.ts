// Owns decoding the parts of an ONNX ModelProto Strand reads without a runtime: initializer names,
// shapes and where their bytes live (inside the model or in external data files), node ops, names,
// inputs, outputs, integer attributes and small constant values (they reveal a model's layers and heads),
// and metadata_props. Field numbers are onnx.proto3's, the ones steps/onnx-proto.ts encodes; this is the
// repository's one ONNX decoder. It reads through a ByteSource by position, so tensor bytes (GBs in an
// NT-2.5B file with its weights inside) are skipped, never read. Pure: the file is an argument.

/** Random access to the bytes of a model (a file at the edge, a Uint8Array in tests). */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** One TensorProto's `external_data` entries: the file (relative to the model's folder) and the byte range. */
export interface ExternalDataRef {
  tensor: string;
  location: string;
  offset: number;
  /** Absent: to the end of the file. */
  length?: number;
}

export interface TensorInfo {
  name: string;
  dims: number[];
  dataType: number;
  elements: number;
  external?: ExternalDataRef;
  /** The values of a small integer tensor (a Reshape shape, a Constant), when stored inside the model. */
  values?: number[];
}

export interface NodeInfo {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** INT attributes by name (`num_heads` of a fused Attention, `axis`). */
  ints: Record<string, number>;
  /** A Constant node's `value` (or `value_int`/`value_ints`). */
  value?: TensorInfo;
}

export interface OnnxModel {
  /** The main graph's initializers. */
  initializers: TensorInfo[];
  /** The main graph's nodes. */
  nodes: NodeInfo[];
  metadata: Record<string, string>;
  /** Every tensor stored outside the model: initializers, sparse initializers, Constant values, in subgraphs too. */
  externalData: ExternalDataRef[];
}

const INT_TYPES: Record<number, { bytes: number; signed: boolean }> = { 6: { bytes: 4, signed: true }, 7: { bytes: 8, signed: true } };
/** Integer tensors up to this many elements keep their values (shapes and scalars, not weights). */
const SMALL_TENSOR = 16;
const WINDOW = 8192;

class DecodeError extends Error {}

type Visit = (field: number, wire: number, value: bigint, from: number, to: number) => void;

class Reader {
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;

  constructor(private readonly source: ByteSource) {}

  get size(): number {
    return this.source.size;
  }

  private byte(pos: number): number {
    if (pos < this.windowStart || pos >= this.windowStart + this.window.length) {
      if (pos >= this.source.size) throw new DecodeError(`the file ends at byte ${this.source.size}, inside a field`);
      this.window = this.source.read(pos, Math.min(WINDOW, this.source.size - pos));
      this.windowStart = pos;
      if (this.window.length === 0) throw new DecodeError(`the file ended early, at byte ${pos} (was it changed while being read?)`);
    }
    return this.window[pos - this.windowStart]!;
  }

  bytes(from: number, to: number): Uint8Array {
    if (from >= this.windowStart && to <= this.windowStart + this.window.length)
      return this.window.subarray(from - this.windowStart, to - this.windowStart);
    return this.source.read(from, to - from);
  }

  text(from: number, to: number): string {
    return Buffer.from(this.bytes(from, to)).toString('utf8');
  }

  varint(at: { pos: number }, end: number): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at.pos >= end) throw new DecodeError(`a varint runs past the end of its message at byte ${at.pos}`);
      const byte = this.byte(at.pos++);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new DecodeError(`a varint longer than 10 bytes at byte ${at.pos}`);
  }

  /** Calls `visit` for each field of the message in [start, end). */
  fields(start: number, end: number, visit: Visit): void {
    const at = { pos: start };
    while (at.pos < end) {
      const key = Number(this.varint(at, end));
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) visit(field, wire, this.varint(at, end), 0, 0);
      else if (wire === 2) {
        const length = Number(this.varint(at, end));
        if (at.pos + length > end)
          throw new DecodeError(`field ${field} at byte ${at.pos} is ${length} bytes long, past the end of its message (byte ${end})`);
        visit(field, wire, 0n, at.pos, at.pos + length);
        at.pos += length;
      } else if (wire === 5) at.pos += 4;
      else if (wire === 1) at.pos += 8;
      else throw new DecodeError(`unsupported protobuf wire type ${wire} at byte ${at.pos}`);
      if (at.pos > end) throw new DecodeError(`a fixed-size field runs past the end of its message (byte ${end})`);
    }
  }

  /** A repeated integer field: one value (unpacked) or a packed run. */
  integers(wire: number, value: bigint, from: number, to: number): bigint[] {
    if (wire === 0) return [value];
    if (wire !== 2) return [];
    const out: bigint[] = [];
    const at = { pos: from };
    while (at.pos < to) out.push(this.varint(at, to));
    return out;
  }
}

const signed = (v: bigint): number => Number(BigInt.asIntN(64, v));

class ModelDecoder {
  readonly externalData: ExternalDataRef[] = [];

  constructor(private readonly r: Reader) {}

  tensor(from: number, to: number): TensorInfo {
    const r = this.r;
    const dims: number[] = [];
    let dataType = 0;
    let name = '';
    let raw: [number, number] | undefined;
    const intData: bigint[] = [];
    const entries: Record<string, string> = {};
    let external = false as boolean; // set inside the field callback
    r.fields(from, to, (field, wire, value, a, b) => {
      if (field === 1) dims.push(...r.integers(wire, value, a, b).map(signed));
      else if (field === 2 && wire === 0) dataType = Number(value);
      else if (field === 8 && wire === 2) name = r.text(a, b);
      else if (field === 9 && wire === 2) raw = [a, b];
      else if ((field === 5 || field === 7) && b - a <= SMALL_TENSOR * 10) intData.push(...r.integers(wire, value, a, b));
      else if (field === 13 && wire === 2) {
        let key = '';
        let text = '';
        r.fields(a, b, (f, w, _v, x, y) => {
          if (f === 1 && w === 2) key = r.text(x, y);
          if (f === 2 && w === 2) text = r.text(x, y);
        });
        entries[key] = text;
      } else if (field === 14 && wire === 0) external = value === 1n;
    });
    const elements = dims.reduce((n, d) => n * d, 1);
    const info: TensorInfo = { name, dims, dataType, elements };
    if (external) {
      const ref: ExternalDataRef = {
        tensor: name,
        location: entries.location ?? '',
        offset: Number(entries.offset ?? 0),
        ...(entries.length !== undefined ? { length: Number(entries.length) } : {}),
      };
      info.external = ref;
      this.externalData.push(ref);
    }
    const kind = INT_TYPES[dataType];
    if (kind !== undefined && elements <= SMALL_TENSOR && !external) {
      if (raw !== undefined && raw[1] - raw[0] === elements * kind.bytes) {
        const bytes = r.bytes(raw[0], raw[1]);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        info.values = Array.from({ length: elements }, (_, i) =>
          kind.bytes === 8 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true),
        );
      } else if (raw === undefined && intData.length === elements) info.values = intData.map(signed);
    }
    return info;
  }

  node(from: number, to: number): NodeInfo {
    const r = this.r;
    const node: NodeInfo = { op: '', name: '', inputs: [], outputs: [], ints: {} };
    r.fields(from, to, (field, wire, _value, a, b) => {
      if (wire !== 2) return;
      if (field === 1) node.inputs.push(r.text(a, b));
      else if (field === 2) node.outputs.push(r.text(a, b));
      else if (field === 3) node.name = r.text(a, b);
      else if (field === 4) node.op = r.text(a, b);
      else if (field === 5) this.attribute(a, b, node);
    });
    if (node.op !== 'Constant') delete node.value;
    return node;
  }

  private attribute(from: number, to: number, node: NodeInfo): void {
    const r = this.r;
    let name = '';
    let int: number | undefined;
    let tensor: TensorInfo | undefined;
    const ints: bigint[] = [];
    r.fields(from, to, (field, wire, value, a, b) => {
      if (field === 1 && wire === 2) name = r.text(a, b);
      else if (field === 3 && wire === 0) int = signed(value);
      else if (field === 5 && wire === 2) tensor = this.tensor(a, b);
      else if (field === 8) ints.push(...r.integers(wire, value, a, b));
      else if (field === 10 && wire === 2)
        this.tensor(a, b); // tensors: only their external data matters
      else if ((field === 6 || field === 11) && wire === 2) this.graph(a, b); // subgraphs load their own initializers
    });
    if (int !== undefined) node.ints[name] = int;
    if (name === 'value' && tensor !== undefined) node.value = tensor;
    else if (name === 'value_int' && int !== undefined) node.value = { name: '', dims: [], dataType: 7, elements: 1, values: [int] };
    else if (name === 'value_ints')
      node.value = { name: '', dims: [ints.length], dataType: 7, elements: ints.length, values: ints.map(signed) };
  }

  graph(from: number, to: number): { initializers: TensorInfo[]; nodes: NodeInfo[] } {
    const r = this.r;
    const initializers: TensorInfo[] = [];
    const nodes: NodeInfo[] = [];
    r.fields(from, to, (field, wire, _value, a, b) => {
      if (wire !== 2) return;
      if (field === 1) nodes.push(this.node(a, b));
      else if (field === 5) initializers.push(this.tensor(a, b));
      else if (field === 15) {
        // SparseTensorProto: values (1) and indices (2) are tensors that may be external.
        r.fields(a, b, (f, w, _v, x, y) => {
          if ((f === 1 || f === 2) && w === 2) this.tensor(x, y);
        });
      }
    });
    return { initializers, nodes };
  }
}

/** Decodes a model's structure; a file that is not a well-formed ModelProto gives a reason instead. */
export function decodeOnnxModel(source: ByteSource): { model: OnnxModel } | { error: string } {
  const r = new Reader(source);
  const decoder = new ModelDecoder(r);
  const metadata: Record<string, string> = {};
  let graph: { initializers: TensorInfo[]; nodes: NodeInfo[] } | undefined;
  try {
    r.fields(0, r.size, (field, wire, _value, from, to) => {
      if (field === 7 && wire === 2) graph = decoder.graph(from, to);
      else if (field === 14 && wire === 2) {
        let key = '';
        let value = '';
        r.fields(from, to, (f, w, _v, a, b) => {
          if (f === 1 && w === 2) key = r.text(a, b);
          if (f === 2 && w === 2) value = r.text(a, b);
        });
        metadata[key] = value;
      }
    });
  } catch (error) {
    if (error instanceof DecodeError) return { error: error.message };
    throw error;
  }
  if (graph === undefined) return { error: 'it has no graph (ModelProto field 7)' };
  return { model: { initializers: graph.initializers, nodes: graph.nodes, metadata, externalData: decoder.externalData } };
}
