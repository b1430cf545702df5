// Owns exporting a trained taxonomy head as an ONNX graph (input `embedding` [batch, dim], one output
// `prob_<level>` [batch, classes] per level), so classification runs in onnxruntime like every model, and
// the `model` artifact classify/taxonomy reads: one row with the graph and its label maps as JSON.
import type { Table } from 'apache-arrow';
import { arrow } from '../../engine/index.js';
import { encodeModel, TensorType, type Node, type Tensor } from '../onnx-proto.js';
import type { HeadLayout } from './head-model.js';

function transposed(params: Float64Array, offset: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = params[offset + r * cols + c]!;
  return out;
}

export function headToOnnx(layout: HeadLayout, params: Float64Array, levels: readonly string[]): Uint8Array {
  const initializers: Tensor[] = [];
  const nodes: Node[] = [];
  const dense = (input: string, name: string, b: { weight: number; bias: number; rows: number; cols: number }): string => {
    initializers.push({
      name: `${name}.weight`,
      dims: [b.cols, b.rows],
      type: TensorType.FLOAT,
      data: transposed(params, b.weight, b.rows, b.cols),
    });
    initializers.push({
      name: `${name}.bias`,
      dims: [b.rows],
      type: TensorType.FLOAT,
      data: Float32Array.from(params.subarray(b.bias, b.bias + b.rows)),
    });
    nodes.push({ op: 'MatMul', inputs: [input, `${name}.weight`], outputs: [`${name}.mm`] });
    nodes.push({ op: 'Add', inputs: [`${name}.mm`, `${name}.bias`], outputs: [`${name}.out`] });
    return `${name}.out`;
  };
  let h = 'embedding';
  if (layout.hiddenBlock) {
    nodes.push({ op: 'Relu', inputs: [dense('embedding', 'hidden', layout.hiddenBlock)], outputs: ['hidden.relu'] });
    h = 'hidden.relu';
  }
  layout.levelBlocks.forEach((b, i) => {
    nodes.push({ op: 'Softmax', inputs: [dense(h, `level_${i}`, b)], outputs: [`prob_${levels[i]}`], attributes: { axis: -1 } });
  });
  return encodeModel(
    {
      name: 'taxonomy-head',
      nodes,
      initializers,
      inputs: [{ name: 'embedding', type: TensorType.FLOAT, shape: ['batch', layout.shape.dim] }],
      outputs: layout.levelBlocks.map((b, i) => ({ name: `prob_${levels[i]}`, type: TensorType.FLOAT, shape: ['batch', b.rows] })),
    },
    17,
    'strand/finetune/taxonomy-head',
  );
}

/** The `model` artifact's one row: `onnx` (the graph) and `meta` (levels, classes, paths, dim, ...). */
export function headModelTable(onnx: Uint8Array, meta: object): Table {
  return new arrow.Table({
    onnx: arrow.vectorFromArray([onnx], new arrow.Binary()),
    meta: arrow.vectorFromArray([JSON.stringify(meta)], new arrow.Utf8()),
  });
}
