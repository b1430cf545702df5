// Test models shaped like a torch.onnx / optimum export of an ESM encoder (Nucleotide Transformer's
// architecture), with no strand.* metadata: MatMul weights renamed `onnx::MatMul_N`, biases and norms
// keeping their `esm.encoder.layer.N.` names, nodes named `/esm/encoder/layer.N/...`, and the attention
// Reshape built by Concat(Unsqueeze(batch), Unsqueeze(length), Constant[heads], Constant[head size]).
// It really runs in onnxruntime; weights are seeded, so a different seed means different vectors.
import { encoderGraph, graphParts, type EncoderShape } from '../../scripts/onnx-graph-builder.js';
import {
  encodeModel,
  encodeModelWithExternalData,
  TensorType,
  type ExternalDataLayout,
  type Graph,
  type Node,
} from '../../steps/onnx-proto.js';
import { seededRandom } from '../../steps/seeded-random.js';

export const SMALL_ESM: EncoderShape = { vocab: 4107, hidden: 32, heads: 4, layers: 3, ffn: 96, seed: 7 };

export function optimumLikeGraph(shape: EncoderShape = SMALL_ESM): Graph {
  const { vocab, hidden, heads, layers, ffn } = shape;
  const random = seededRandom(shape.seed);
  const parts = graphParts();
  const { nodes } = parts;
  let matmuls = 0;
  let counter = 0;
  const floats = (name: string, dims: number[], amplitude: number, fill?: number): string =>
    parts.floats(
      name,
      dims,
      Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => fill ?? (random() * 2 - 1) * amplitude),
    );
  const ints = (name: string, values: number[], dims: number[] = [values.length]): string => parts.ints(name, dims, values);
  const op = (type: string, scope: string, inputs: string[], attributes?: Node['attributes']): string => {
    const name = `${scope}/${type}_${counter++}`;
    const out = `${name}_output_0`;
    nodes.push({ op: type, name, inputs, outputs: [out], ...(attributes ? { attributes } : {}) });
    return out;
  };
  const constant = (scope: string, values: number[]): string =>
    op('Constant', scope, [], {
      value: { tensor: { name: '', dims: [values.length], type: TensorType.INT64, data: BigInt64Array.from(values.map(BigInt)) } },
    });
  const linear = (x: string, scope: string, bias: string, from: number, to: number): string =>
    op('Add', scope, [
      op('MatMul', scope, [x, floats(`onnx::MatMul_${1000 + matmuls++}`, [from, to], 1 / Math.sqrt(from))]),
      floats(bias, [to], 0.1),
    ]);
  const layerNorm = (x: string, scope: string, name: string): string =>
    op('LayerNormalization', scope, [x, floats(`${name}.weight`, [hidden], 0, 1), floats(`${name}.bias`, [hidden], 0, 0)], {
      axis: -1,
      epsilon: { float: 1e-5 },
    });

  const embedded = op(
    'Gather',
    '/esm/embeddings/word_embeddings',
    [floats('esm.embeddings.word_embeddings.weight', [vocab, hidden], 1), 'input_ids'],
    { axis: 0 },
  );
  const mask = op('Unsqueeze', '/esm/embeddings', [
    op('Cast', '/esm/embeddings', ['attention_mask'], { to: TensorType.FLOAT }),
    ints('onnx::Unsqueeze_2', [2]),
  ]);
  let x = op('Mul', '/esm/embeddings', [embedded, mask]);
  const dims = op('Shape', '/esm/encoder', [x]);
  const batch = op('Unsqueeze', '/esm/encoder', [
    op('Gather', '/esm/encoder', [dims, ints('onnx::Gather_0', [0], [])], { axis: 0 }),
    ints('onnx::Unsqueeze_0', [0]),
  ]);
  const length = op('Unsqueeze', '/esm/encoder', [
    op('Gather', '/esm/encoder', [dims, ints('onnx::Gather_1', [1], [])], { axis: 0 }),
    ints('onnx::Unsqueeze_1', [0]),
  ]);
  const headSize = hidden / heads;
  for (let l = 0; l < layers; l++) {
    const scope = `/esm/encoder/layer.${l}/attention/self`;
    const name = `esm.encoder.layer.${l}`;
    const h = layerNorm(x, `/esm/encoder/layer.${l}/attention/LayerNorm`, `${name}.attention.LayerNorm`);
    const split = op('Concat', scope, [batch, length, constant(scope, [heads]), constant(scope, [headSize])], { axis: 0 });
    const [q, k, v] = ['query', 'key', 'value'].map((n) =>
      op('Reshape', scope, [linear(h, `${scope}/${n}`, `${name}.attention.self.${n}.bias`, hidden, hidden), split]),
    );
    const scale = floats(`${name}.attention.self.scale`, [], 0, 1 / Math.sqrt(headSize));
    const scores = op('Mul', scope, [
      op('MatMul', scope, [op('Transpose', scope, [q!], { perm: [0, 2, 1, 3] }), op('Transpose', scope, [k!], { perm: [0, 2, 3, 1] })]),
      scale,
    ]);
    const context = op('MatMul', scope, [
      op('Softmax', scope, [scores], { axis: -1 }),
      op('Transpose', scope, [v!], { perm: [0, 2, 1, 3] }),
    ]);
    const merged = op('Reshape', scope, [
      op('Transpose', scope, [context], { perm: [0, 2, 1, 3] }),
      op('Concat', scope, [batch, length, constant(scope, [hidden])], { axis: 0 }),
    ]);
    x = op('Add', `/esm/encoder/layer.${l}/attention/output`, [
      x,
      linear(merged, `/esm/encoder/layer.${l}/attention/output/dense`, `${name}.attention.output.dense.bias`, hidden, hidden),
    ]);
    const f = op('Relu', `/esm/encoder/layer.${l}/intermediate`, [
      linear(
        layerNorm(x, `/esm/encoder/layer.${l}/LayerNorm`, `${name}.LayerNorm`),
        `/esm/encoder/layer.${l}/intermediate/dense`,
        `${name}.intermediate.dense.bias`,
        hidden,
        ffn,
      ),
    ]);
    x = op('Add', `/esm/encoder/layer.${l}/output`, [
      x,
      linear(f, `/esm/encoder/layer.${l}/output/dense`, `${name}.output.dense.bias`, ffn, hidden),
    ]);
  }
  nodes.push({
    op: 'LayerNormalization',
    name: '/esm/encoder/emb_layer_norm_after/LayerNormalization',
    inputs: [
      x,
      floats('esm.encoder.emb_layer_norm_after.weight', [hidden], 0, 1),
      floats('esm.encoder.emb_layer_norm_after.bias', [hidden], 0, 0),
    ],
    outputs: ['last_hidden_state'],
    attributes: { axis: -1, epsilon: { float: 1e-5 } },
  });
  return encoderGraph('main_graph', parts, hidden, ['batch_size', 'sequence_length']);
}

const PRODUCER = 'pytorch';

export function optimumLikeModel(shape: EncoderShape = SMALL_ESM): Uint8Array {
  return encodeModel(optimumLikeGraph(shape), 17, PRODUCER);
}

/** model.onnx plus its external data, as torch.onnx writes a model over 2 GB. */
export function optimumLikeExport(
  layout: ExternalDataLayout,
  shape: EncoderShape = SMALL_ESM,
): { model: Uint8Array; files: Map<string, Uint8Array> } {
  return encodeModelWithExternalData(optimumLikeGraph(shape), 17, PRODUCER, {}, layout);
}

/** A model whose graph shows no transformer shape: one anonymous projection of the token ids. */
export function shapelessModel(hidden = 8): Uint8Array {
  const parts = graphParts();
  parts.nodes.push(
    { op: 'Cast', inputs: ['input_ids'], outputs: ['ids'], attributes: { to: TensorType.FLOAT } },
    { op: 'Unsqueeze', inputs: ['ids', 'axes'], outputs: ['column'] },
    {
      op: 'MatMul',
      inputs: [
        'column',
        parts.floats(
          'w0',
          [1, hidden],
          Array.from({ length: hidden }, (_, i) => (i + 1) / hidden),
        ),
      ],
      outputs: ['projected'],
    },
    { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask'], attributes: { to: TensorType.FLOAT } },
    { op: 'Unsqueeze', inputs: ['mask', parts.ints('axes', [1], [2])], outputs: ['mask3'] },
    { op: 'Mul', inputs: ['projected', 'mask3'], outputs: ['last_hidden_state'] },
  );
  return encodeModel(encoderGraph('main_graph', parts, hidden, ['batch', 'sequence']), 17, PRODUCER);
}
