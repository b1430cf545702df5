// Owns reading the taxonomy head the JAX runtime writes (`head.safetensors`: F32 tensors `hidden.weight`
// [hidden, dim], `hidden.bias`, `level_N.weight` [classes, width], `level_N.bias`, torch's [out, in] layout)
// into the flat parameters of `headLayout`, whose blocks are row-major [rows = out, cols = in]: the same order.
import { StepError } from '../../engine/index.js';
import type { HeadLayout } from './head-model.js';

function readTensors(bytes: Uint8Array): Map<string, Float32Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + length)).toString('utf8')) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >;
  const tensors = new Map<string, Float32Array>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new StepError(`head tensor ${name} is ${t.dtype}, not F32`);
    const [start, end] = t.data_offsets;
    const data = new Float32Array((end - start) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(8 + length + start + 4 * i, true);
    tensors.set(name, data);
  }
  return tensors;
}

export function headParamsFromSafetensors(bytes: Uint8Array, layout: HeadLayout): Float64Array {
  const tensors = readTensors(bytes);
  const params = new Float64Array(layout.size);
  const blocks = [
    ...(layout.hiddenBlock ? [['hidden', layout.hiddenBlock] as const] : []),
    ...layout.levelBlocks.map((b, i) => [`level_${i}`, b] as const),
  ];
  for (const [name, b] of blocks) {
    const weight = tensors.get(`${name}.weight`);
    const bias = tensors.get(`${name}.bias`);
    if (weight?.length !== b.rows * b.cols || bias?.length !== b.rows)
      throw new StepError(`the head has no ${name} of ${b.rows} x ${b.cols}`, 'the runtime and the step disagree on the head: a bug');
    params.set(weight, b.weight);
    params.set(bias, b.bias);
  }
  return params;
}
