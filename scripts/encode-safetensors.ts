// Owns encoding float32 tensors as a safetensors file (8-byte little-endian header length, JSON header,
// raw little-endian data), deterministic to the byte: tensors in the order given, header padded to 8 bytes.

export interface NamedTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    if (t.dims.reduce((a, b) => a * b, 1) !== t.data.length)
      throw new Error(`tensor ${t.name}: dims [${t.dims.join(', ')}] do not match ${t.data.length} values`);
    header[t.name] = { dtype: 'F32', shape: t.dims, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    const bytes = new Uint8Array(t.data.byteLength);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < t.data.length; i++) dv.setFloat32(i * 4, t.data[i]!, true);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}
