// Builds models/tiny-nt.onnx: a small encoder shaped like Nucleotide Transformer v2 (vocabulary 4107,
// pre-LayerNorm layers, inputs input_ids/attention_mask, output last_hidden_state) with seeded weights.
// Its vectors are not biologically meaningful: it exists so the pipeline runs real ONNX graphs offline.
// Deterministic to the byte (a test rebuilds it and compares): weights use only exact float arithmetic.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeModel, TensorType, type Graph, type Node, type Tensor } from '../steps/onnx-proto.js';
import { seededRandom } from '../steps/seeded-random.js';

export interface EncoderShape {
  vocab: number;
  hidden: number;
  heads: number;
  layers: number;
  ffn: number;
  maxPositions: number;
  seed: number;
}

export const TINY_NT: EncoderShape = { vocab: 4107, hidden: 64, heads: 4, layers: 2, ffn: 256, maxPositions: 2048, seed: 20261123 };

/** The committed model is `buildTinyNt()`; benchmarks build larger shapes to weigh inference realistically. */
export function buildTinyNt(shape: EncoderShape = TINY_NT): Uint8Array {
  const { vocab, hidden, heads, layers, ffn, maxPositions, seed } = shape;
  const random = seededRandom(seed);
  const initializers: Tensor[] = [];
  const nodes: Node[] = [];
  const floats = (name: string, dims: number[], amplitude: number): string => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * amplitude;
    initializers.push({ name, dims, type: TensorType.FLOAT, data });
    return name;
  };
  const constant = (name: string, dims: number[], values: number[]): string => {
    initializers.push({ name, dims, type: TensorType.FLOAT, data: Float32Array.from(values) });
    return name;
  };
  const ints = (name: string, dims: number[], values: number[]): string => {
    initializers.push({ name, dims, type: TensorType.INT64, data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  };
  let counter = 0;
  const op = (type: string, inputs: string[], attributes?: Node['attributes']): string => {
    const out = `${type.toLowerCase()}_${counter++}`;
    nodes.push({ op: type, inputs, outputs: [out], ...(attributes ? { attributes } : {}) });
    return out;
  };
  const linear = (x: string, name: string, from: number, to: number): string =>
    op('Add', [op('MatMul', [x, floats(`${name}.weight`, [from, to], 1 / Math.sqrt(from))]), constant(`${name}.bias`, [to], new Array(to).fill(0))]);
  const layerNorm = (x: string, name: string): string =>
    op('LayerNormalization', [x, constant(`${name}.gamma`, [hidden], new Array(hidden).fill(1)), constant(`${name}.beta`, [hidden], new Array(hidden).fill(0))], { axis: -1, epsilon: { float: 1e-5 } });

  const headDim = hidden / heads;
  const tokens = op('Gather', [floats('embeddings.word', [vocab, hidden], 1), 'input_ids'], { axis: 0 });
  const length = op('Gather', [op('Shape', ['input_ids']), ints('one_index', [], [1])], { axis: 0 });
  const positions = op('Range', [ints('zero', [], [0]), length, ints('one', [], [1])]);
  let x = op('Add', [tokens, op('Gather', [floats('embeddings.position', [maxPositions, hidden], 0.5), positions], { axis: 0 })]);
  const maskFloat = op('Cast', ['attention_mask'], { to: TensorType.FLOAT });
  const maskBias = op('Unsqueeze', [op('Mul', [op('Sub', [constant('one_f', [], [1]), maskFloat]), constant('neg_inf', [], [-1e9])]), ints('axes_1_2', [2], [1, 2])]);
  const splitHeads = ints('shape_heads', [4], [0, 0, heads, headDim]);
  const mergeHeads = ints('shape_merge', [3], [0, 0, hidden]);
  for (let l = 0; l < layers; l++) {
    const h = layerNorm(x, `layer${l}.attention_norm`);
    const [q, k, v] = ['query', 'key', 'value'].map((n) => op('Reshape', [linear(h, `layer${l}.attention.${n}`, hidden, hidden), splitHeads]));
    const scores = op('Mul', [op('MatMul', [op('Transpose', [q!], { perm: [0, 2, 1, 3] }), op('Transpose', [k!], { perm: [0, 2, 3, 1] })]), constant(`layer${l}.scale`, [], [1 / Math.sqrt(headDim)])]);
    const probabilities = op('Softmax', [op('Add', [scores, maskBias])], { axis: -1 });
    const context = op('Reshape', [op('Transpose', [op('MatMul', [probabilities, op('Transpose', [v!], { perm: [0, 2, 1, 3] })])], { perm: [0, 2, 1, 3] }), mergeHeads]);
    x = op('Add', [x, linear(context, `layer${l}.attention.output`, hidden, hidden)]);
    const f = linear(layerNorm(x, `layer${l}.ffn_norm`), `layer${l}.ffn.up`, hidden, ffn);
    const gelu = op('Mul', [op('Mul', [f, constant(`layer${l}.half`, [], [0.5])]), op('Add', [constant(`layer${l}.one`, [], [1]), op('Erf', [op('Mul', [f, constant(`layer${l}.inv_sqrt2`, [], [Math.SQRT1_2])])])])]);
    x = op('Add', [x, linear(gelu, `layer${l}.ffn.down`, ffn, hidden)]);
  }
  nodes.push({ op: 'LayerNormalization', inputs: [x, constant('final_norm.gamma', [hidden], new Array(hidden).fill(1)), constant('final_norm.beta', [hidden], new Array(hidden).fill(0))], outputs: ['last_hidden_state'], attributes: { axis: -1, epsilon: { float: 1e-5 } } });

  const graph: Graph = {
    name: 'tiny-nt',
    nodes,
    initializers,
    inputs: [
      { name: 'input_ids', type: TensorType.INT64, shape: ['batch', 'sequence'] },
      { name: 'attention_mask', type: TensorType.INT64, shape: ['batch', 'sequence'] },
    ],
    outputs: [{ name: 'last_hidden_state', type: TensorType.FLOAT, shape: ['batch', 'sequence', hidden] }],
  };
  return encodeModel(graph, 17, 'strand/scripts/build-tiny-nt', {
    'strand.tokenizer': 'nucleotide-transformer',
    'strand.tokenizer_version': '2',
    'strand.layers': String(layers),
    'strand.hidden': String(hidden),
    'strand.heads': String(heads),
    'strand.note': 'seeded random weights; vectors are not biologically meaningful',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? 'models/tiny-nt.onnx';
  const bytes = buildTinyNt();
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes)`);
}
