// Owns the bytes of a training checkpoint: a JSON header (step, running sums, metrics so far) and the
// parameters and AdamW moments as raw float64, so a restored run continues bit for bit.

export interface TrainingState<M> {
  step: number;
  header: M;
  params: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

export function encodeTrainingState<M>(state: TrainingState<M>): Uint8Array {
  const header = Buffer.from(JSON.stringify({ step: state.step, header: state.header, size: state.params.length }));
  const padded = Math.ceil((4 + header.length) / 8) * 8;
  const out = new Uint8Array(padded + state.params.length * 8 * 3);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  [state.params, state.m, state.v].forEach((array, i) =>
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), padded + i * array.byteLength),
  );
  return out;
}

export function decodeTrainingState<M>(bytes: Uint8Array): TrainingState<M> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  const meta = JSON.parse(Buffer.from(bytes.subarray(4, 4 + length)).toString('utf8')) as { step: number; header: M; size: number };
  const padded = Math.ceil((4 + length) / 8) * 8;
  const read = (i: number): Float64Array => {
    const copy = new Uint8Array(meta.size * 8);
    copy.set(bytes.subarray(padded + i * meta.size * 8, padded + (i + 1) * meta.size * 8));
    return new Float64Array(copy.buffer);
  };
  return { step: meta.step, header: meta.header, params: read(0), m: read(1), v: read(2) };
}
