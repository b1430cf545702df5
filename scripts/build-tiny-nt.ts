// Builds the repository's small Nucleotide Transformer in two forms from the same seeded weights:
// models/tiny-nt.onnx (for embed/onnx; inputs input_ids/attention_mask, output last_hidden_state) and
// models/tiny-nt/ (a Hugging Face folder, config.json + model.safetensors with NT key names, for the
// JAX runtime; its model.onnx is a link to ../tiny-nt.onnx, so `embed/nt` finds both forms in one folder).
// The architecture is NT v2's, as InstaDeep's HF code defines it: ESM pre-LayerNorm layers,
// rotary positions (query scaled, then rotated), SwiGLU feed-forward without biases, vocabulary 4107,
// final emb_layer_norm_after. Its vectors are not biologically meaningful: it exists so the pipelines
// run real graphs offline. Deterministic to the byte (a test rebuilds both forms and compares).
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeModel, TensorType, type Node } from '../steps/onnx-proto.js';
import { seededRandom } from '../steps/seeded-random.js';
import { encodeSafetensors, type NamedTensor } from './encode-safetensors.js';
import { encoderGraph, graphParts, type EncoderShape } from './onnx-graph-builder.js';

export interface TinyNtShape extends EncoderShape {
  /** config.json max_position_embeddings (rotary positions have no table; NT v2 says 2050). */
  maxPositions: number;
}

export const TINY_NT: TinyNtShape = { vocab: 4107, hidden: 64, heads: 4, layers: 2, ffn: 256, maxPositions: 2050, seed: 20261123 };

const LAYER_NORM_EPS = 1e-12;
const PAD_ID = 1;
const MASK_ID = 2;

/** The seeded weights under NT v2's Hugging Face names, in torch layout ([out, in] for linear layers). */
export function tinyNtWeights(shape: TinyNtShape = TINY_NT): NamedTensor[] {
  const { vocab, hidden, layers, ffn, seed } = shape;
  const random = seededRandom(seed);
  const tensors: NamedTensor[] = [];
  const uniform = (name: string, dims: number[], amplitude: number, centre = 0): void => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = centre + (random() * 2 - 1) * amplitude;
    tensors.push({ name, dims, data });
  };
  const norm = (prefix: string): void => {
    uniform(`${prefix}.weight`, [hidden], 0.1, 1);
    uniform(`${prefix}.bias`, [hidden], 0.1);
  };
  const headDim = hidden / shape.heads;
  uniform('esm.embeddings.word_embeddings.weight', [vocab, hidden], 1);
  for (let l = 0; l < layers; l++) {
    const p = `esm.encoder.layer.${l}`;
    for (const n of ['query', 'key', 'value']) {
      uniform(`${p}.attention.self.${n}.weight`, [hidden, hidden], 1 / Math.sqrt(hidden));
      uniform(`${p}.attention.self.${n}.bias`, [hidden], 0.1);
    }
    // A buffer InstaDeep's checkpoints carry; loaders recompute it.
    tensors.push({ name: `${p}.attention.self.rotary_embeddings.inv_freq`, dims: [headDim / 2], data: inverseFrequencies(headDim) });
    uniform(`${p}.attention.output.dense.weight`, [hidden, hidden], 1 / Math.sqrt(hidden));
    uniform(`${p}.attention.output.dense.bias`, [hidden], 0.1);
    norm(`${p}.attention.LayerNorm`);
    uniform(`${p}.intermediate.dense.weight`, [2 * ffn, hidden], 1 / Math.sqrt(hidden));
    uniform(`${p}.output.dense.weight`, [hidden, ffn], 1 / Math.sqrt(ffn));
    norm(`${p}.LayerNorm`);
  }
  norm('esm.encoder.emb_layer_norm_after');
  return tensors;
}

/** RoFormer's 1 / 10000^(2i/d), computed in float64 and rounded once to float32. */
function inverseFrequencies(headDim: number): Float32Array {
  return Float32Array.from({ length: headDim / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / headDim));
}

/** The config.json of the Hugging Face form (the keys NT v2's esm_config.py reads). */
export function tinyNtConfig(shape: TinyNtShape = TINY_NT): string {
  const config = {
    architectures: ['EsmForMaskedLM'],
    model_type: 'esm',
    add_bias_fnn: false,
    attention_probs_dropout_prob: 0,
    emb_layer_norm_before: false,
    hidden_dropout_prob: 0,
    hidden_size: shape.hidden,
    intermediate_size: shape.ffn,
    layer_norm_eps: LAYER_NORM_EPS,
    mask_token_id: MASK_ID,
    max_position_embeddings: shape.maxPositions,
    num_attention_heads: shape.heads,
    num_hidden_layers: shape.layers,
    pad_token_id: PAD_ID,
    position_embedding_type: 'rotary',
    tie_word_embeddings: false,
    token_dropout: false,
    torch_dtype: 'float32',
    vocab_size: shape.vocab,
    'strand.note': 'seeded random weights built by scripts/build-tiny-nt.ts; vectors are not biologically meaningful',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function buildTinyNtFolder(shape: TinyNtShape = TINY_NT): { 'config.json': string; 'model.safetensors': Uint8Array } {
  return { 'config.json': tinyNtConfig(shape), 'model.safetensors': encodeSafetensors(tinyNtWeights(shape), { format: 'pt' }) };
}

/** The committed ONNX model is `buildTinyNt()`; benchmarks build larger shapes to weigh inference realistically. */
export function buildTinyNt(shape: TinyNtShape = TINY_NT): Uint8Array {
  const { hidden, heads, layers, ffn } = shape;
  const headDim = hidden / heads;
  const weights = new Map(tinyNtWeights(shape).map((t) => [t.name, t]));
  const parts = graphParts();
  const { nodes, ints } = parts;
  const used = (name: string): string => {
    const t = weights.get(name);
    if (t === undefined) throw new Error(`no weight ${name}`);
    return parts.floats(name, t.dims, t.data);
  };
  // ONNX MatMul takes [in, out]: the graph holds the transpose of each torch-layout weight.
  const transposed = (name: string): string => {
    const t = weights.get(name)!;
    const [rows, cols] = t.dims as [number, number];
    const data = new Float32Array(t.data.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = t.data[r * cols + c]!;
    return parts.floats(`${name}.T`, [cols, rows], data);
  };
  const constant = parts.floats;
  let counter = 0;
  const op = (type: string, inputs: string[], attributes?: Node['attributes']): string => {
    const out = `${type.toLowerCase()}_${counter++}`;
    nodes.push({ op: type, inputs, outputs: [out], ...(attributes ? { attributes } : {}) });
    return out;
  };
  const linear = (x: string, name: string, bias: boolean): string => {
    const y = op('MatMul', [x, transposed(`${name}.weight`)]);
    return bias ? op('Add', [y, used(`${name}.bias`)]) : y;
  };
  const layerNorm = (x: string, name: string): string =>
    op('LayerNormalization', [x, used(`${name}.weight`), used(`${name}.bias`)], { axis: -1, epsilon: { float: LAYER_NORM_EPS } });
  const slice = (x: string, from: string, to: string, axis: string): string => op('Slice', [x, from, to, axis]);

  // Rotary tables for this length: angles [length, headDim] = positions x (inv_freq twice), broadcast over heads.
  const length = op('Gather', [op('Shape', ['input_ids']), ints('one_index', [], [1])], { axis: 0 });
  const positions = op('Cast', [op('Range', [ints('zero', [], [0]), length, ints('one', [], [1])])], { to: TensorType.FLOAT });
  const inverse = inverseFrequencies(headDim);
  const freqs = op('Mul', [op('Unsqueeze', [positions, ints('axes_1', [1], [1])]), constant('rotary.inv_freq', [headDim / 2], inverse)]);
  const angles = op('Unsqueeze', [op('Concat', [freqs, freqs], { axis: -1 }), ints('axes_1b', [1], [1])]);
  const cos = op('Cos', [angles]);
  const sin = op('Sin', [angles]);
  const [h0, hHalf, hEnd, axis3] = [
    ints('h0', [1], [0]),
    ints('h_half', [1], [headDim / 2]),
    ints('h_end', [1], [headDim]),
    ints('axis_3', [1], [3]),
  ];
  const rotate = (x: string): string => {
    const rotated = op('Concat', [op('Neg', [slice(x, hHalf, hEnd, axis3)]), slice(x, h0, hHalf, axis3)], { axis: 3 });
    return op('Add', [op('Mul', [x, cos]), op('Mul', [rotated, sin])]);
  };

  const maskFloat = op('Cast', ['attention_mask'], { to: TensorType.FLOAT });
  let x = op('Mul', [
    op('Gather', [used('esm.embeddings.word_embeddings.weight'), 'input_ids'], { axis: 0 }),
    op('Unsqueeze', [maskFloat, ints('axes_last', [1], [-1])]),
  ]);
  const maskBias = op('Unsqueeze', [
    op('Mul', [op('Sub', [constant('one_f', [], [1]), maskFloat]), constant('neg_big', [], [-3.4028234663852886e38])]),
    ints('axes_1_2', [2], [1, 2]),
  ]);
  const splitHeads = ints('shape_heads', [4], [0, 0, heads, headDim]);
  const mergeHeads = ints('shape_merge', [3], [0, 0, hidden]);
  const [f0, fHalf, fEnd, axis2] = [
    ints('f0', [1], [0]),
    ints('f_half', [1], [ffn]),
    ints('f_end', [1], [2 * ffn]),
    ints('axis_2', [1], [2]),
  ];
  const scale = constant('query_scale', [], [1 / Math.sqrt(headDim)]);
  for (let l = 0; l < layers; l++) {
    const p = `esm.encoder.layer.${l}`;
    const h = layerNorm(x, `${p}.attention.LayerNorm`);
    const heads4 = (n: string): string => op('Reshape', [linear(h, `${p}.attention.self.${n}`, true), splitHeads]);
    const q = rotate(op('Mul', [heads4('query'), scale]));
    const k = rotate(heads4('key'));
    const v = heads4('value');
    const scores = op('MatMul', [op('Transpose', [q], { perm: [0, 2, 1, 3] }), op('Transpose', [k], { perm: [0, 2, 3, 1] })]);
    const probabilities = op('Softmax', [op('Add', [scores, maskBias])], { axis: -1 });
    const context = op('Reshape', [
      op('Transpose', [op('MatMul', [probabilities, op('Transpose', [v], { perm: [0, 2, 1, 3] })])], { perm: [0, 2, 1, 3] }),
      mergeHeads,
    ]);
    x = op('Add', [x, linear(context, `${p}.attention.output.dense`, true)]);
    const up = linear(layerNorm(x, `${p}.LayerNorm`), `${p}.intermediate.dense`, false);
    const gate = slice(up, f0, fHalf, axis2);
    const swiglu = op('Mul', [op('Mul', [gate, op('Sigmoid', [gate])]), slice(up, fHalf, fEnd, axis2)]);
    x = op('Add', [x, linear(swiglu, `${p}.output.dense`, false)]);
  }
  const final = 'esm.encoder.emb_layer_norm_after';
  nodes.push({
    op: 'LayerNormalization',
    inputs: [x, used(`${final}.weight`), used(`${final}.bias`)],
    outputs: ['last_hidden_state'],
    attributes: { axis: -1, epsilon: { float: LAYER_NORM_EPS } },
  });

  return encodeModel(encoderGraph('tiny-nt', parts, hidden, ['batch', 'sequence']), 17, 'strand/scripts/build-tiny-nt', {
    'strand.tokenizer': 'nucleotide-transformer',
    'strand.tokenizer_version': '2',
    'strand.architecture': 'nucleotide-transformer-v2',
    'strand.layers': String(layers),
    'strand.hidden': String(hidden),
    'strand.heads': String(heads),
    'strand.ffn': String(ffn),
    'strand.note': 'seeded random weights; vectors are not biologically meaningful; same weights as models/tiny-nt/model.safetensors',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? 'models/tiny-nt.onnx';
  const folder = process.argv[3] ?? 'models/tiny-nt';
  const bytes = buildTinyNt();
  writeFileSync(out, bytes);
  mkdirSync(folder, { recursive: true });
  for (const [name, content] of Object.entries(buildTinyNtFolder())) writeFileSync(join(folder, name), content);
  rmSync(join(folder, 'model.onnx'), { force: true });
  symlinkSync(join(relative(folder, join(out, '..')), basename(out)), join(folder, 'model.onnx'));
  console.log(`wrote ${out} (${bytes.length} bytes) and ${folder}/`);
}
