// Owns reading the facts placement needs from an ONNX file without loading it into a runtime: the
// parameter count (elements of all initializers) and, when the exporter recorded them as metadata,
// layers, hidden size and attention heads. A minimal protobuf walk over ModelProto/GraphProto/TensorProto.
import { readFileSync } from 'node:fs';

export interface ModelFacts {
  parameters: number;
  layers?: number;
  hidden?: number;
  heads?: number;
}

function readVarint(bytes: Uint8Array, at: { pos: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at.pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
}

/** Calls `visit(field, wire, start, end)` for each field of a message; returns nothing. */
function fields(bytes: Uint8Array, start: number, end: number, visit: (field: number, wire: number, value: number, from: number, to: number) => void): void {
  const at = { pos: start };
  while (at.pos < end) {
    const key = readVarint(bytes, at);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) visit(field, wire, readVarint(bytes, at), 0, 0);
    else if (wire === 2) {
      const length = readVarint(bytes, at);
      visit(field, wire, 0, at.pos, at.pos + length);
      at.pos += length;
    } else if (wire === 5) at.pos += 4;
    else if (wire === 1) at.pos += 8;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

export function readModelFacts(path: string): ModelFacts {
  const bytes = readFileSync(path);
  let parameters = 0;
  const metadata = new Map<string, string>();
  const text = (from: number, to: number): string => Buffer.from(bytes.subarray(from, to)).toString('utf8');
  fields(bytes, 0, bytes.length, (field, wire, _v, from, to) => {
    if (field === 7 && wire === 2) {
      fields(bytes, from, to, (gField, gWire, _gv, gFrom, gTo) => {
        if (gField !== 5 || gWire !== 2) return;
        let elements = 1;
        fields(bytes, gFrom, gTo, (tField, tWire, value, pFrom, pTo) => {
          if (tField !== 1) return;
          if (tWire === 0) elements *= value;
          else if (tWire === 2) {
            const at = { pos: pFrom };
            while (at.pos < pTo) elements *= readVarint(bytes, at);
          }
        });
        parameters += elements;
      });
    } else if (field === 14 && wire === 2) {
      let key = '';
      let value = '';
      fields(bytes, from, to, (eField, _w, _ev, eFrom, eTo) => {
        if (eField === 1) key = text(eFrom, eTo);
        if (eField === 2) value = text(eFrom, eTo);
      });
      metadata.set(key, value);
    }
  });
  const number = (key: string): number | undefined => (metadata.has(key) ? Number(metadata.get(key)) : undefined);
  const layers = number('strand.layers');
  const hidden = number('strand.hidden');
  const heads = number('strand.heads');
  return { parameters, ...(layers ? { layers } : {}), ...(hidden ? { hidden } : {}), ...(heads ? { heads } : {}) };
}
