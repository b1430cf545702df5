// Owns reading a transformer's shape from its ONNX graph when no one wrote it down, as a torch.onnx or
// optimum export looks: layers from the repeated `encoder.layer.N.` / `layers.N.` prefixes of initializer
// and node names (else one attention per layer), hidden size and vocabulary from the token-embedding
// table, FFN width from the down-projection weights, heads from a fused attention's `num_heads` or the
// Reshape that splits hidden into heads x head size. Pure, over a decoded model; a fact the graph does not
// show is left out, never guessed.
import type { NodeInfo, OnnxModel, TensorInfo } from '../onnx/decode-onnx-model.js';
import type { FactValues } from './model-facts.js';

const LAYER_NAME = /(?:^|\.)(layers?|h|blocks?)[._](\d+)[._]/;
const EMBEDDING_NAME = /(?:^|\.)(word_embeddings|embed_tokens|wte|tok_embeddings|token_embedding|embed_in)(?:\.weight)?$/;
const ATTENTION_OPS = new Set(['Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention', 'PackedMultiHeadAttention']);

/** Elements of every initializer: a model's parameter count (weights in external data included). */
export function parametersOf(model: OnnxModel): number {
  return model.initializers.reduce((n, t) => n + t.elements, 0);
}

/** `/esm/encoder/layer.0/attention/Reshape` and `esm.encoder.layer.0.attention...` name the same layer. */
function normalise(name: string): string {
  return name.replaceAll('/', '.').replace(/^\.+/, '');
}

function layersOf(model: OnnxModel): number | undefined {
  const byPrefix = new Map<string, Set<number>>();
  for (const name of [...model.initializers.map((t) => t.name), ...model.nodes.map((n) => n.name)]) {
    const normalised = normalise(name);
    const match = LAYER_NAME.exec(normalised);
    if (match === null) continue;
    const prefix = normalised.slice(0, match.index) + match[1]!;
    const indices = byPrefix.get(prefix) ?? new Set<number>();
    indices.add(Number(match[2]));
    byPrefix.set(prefix, indices);
  }
  // The block stack is the prefix repeated most often (a decoder's cross-attention stack, if any, is shorter).
  const best = [...byPrefix.values()].sort((a, b) => b.size - a.size)[0];
  if (best !== undefined) return best.size;
  const attention = model.nodes.filter((n) => ATTENTION_OPS.has(n.op)).length;
  if (attention > 0) return attention;
  const softmax = model.nodes.filter((n) => n.op === 'Softmax').length;
  return softmax > 0 ? softmax : undefined;
}

function embeddingOf(model: OnnxModel, initializers: ReadonlyMap<string, TensorInfo>): TensorInfo | undefined {
  const named = model.initializers.find((t) => t.dims.length === 2 && EMBEDDING_NAME.test(normalise(t.name)));
  if (named !== undefined) return named;
  // Unnamed: the table a Gather indexes with the token ids.
  for (const node of model.nodes) {
    if (node.op !== 'Gather' || node.inputs[1] !== 'input_ids') continue;
    const table = initializers.get(node.inputs[0] ?? '');
    if (table?.dims.length === 2) return table;
  }
  return undefined;
}

function mostCommon(values: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
}

/** Down projections: MatMul weights [ffn, hidden] (ONNX MatMul is x[.., in] W[in, out]), ffn > hidden. */
function ffnOf(model: OnnxModel, initializers: ReadonlyMap<string, TensorInfo>, hidden: number): number | undefined {
  const widths: number[] = [];
  for (const node of model.nodes) {
    if (node.op !== 'MatMul') continue;
    const weight = initializers.get(node.inputs[1] ?? '');
    if (weight?.dims.length === 2 && weight.dims[1] === hidden && weight.dims[0]! > hidden) widths.push(weight.dims[0]!);
  }
  const fromMatMul = mostCommon(widths);
  if (fromMatMul !== undefined) return fromMatMul;
  const bias = model.initializers.find(
    (t) => t.dims.length === 1 && /(intermediate\.dense|mlp\.(fc1|up_proj|c_fc)|fc1)\.bias$/.test(normalise(t.name)),
  );
  return bias?.dims[0];
}

/** Values of a constant tensor: an initializer or a Constant node's output. */
function constantsOf(model: OnnxModel, initializers: ReadonlyMap<string, TensorInfo>): Map<string, number[]> {
  const constants = new Map<string, number[]>();
  for (const [name, t] of initializers) if (t.values !== undefined) constants.set(name, t.values);
  for (const node of model.nodes)
    if (node.op === 'Constant' && node.value?.values !== undefined && node.outputs[0] !== undefined)
      constants.set(node.outputs[0], node.value.values);
  return constants;
}

/** The last two entries of a Reshape's target shape, when they are constants (dynamic entries are undefined). */
function shapeTail(
  shape: string,
  constants: ReadonlyMap<string, number[]>,
  producers: ReadonlyMap<string, NodeInfo>,
): [number, number] | undefined {
  let entries: (number | undefined)[] | undefined = constants.get(shape);
  const concat = producers.get(shape);
  if (entries === undefined && concat?.op === 'Concat') entries = concat.inputs.flatMap((input) => constants.get(input) ?? [undefined]);
  if (entries === undefined || entries.length < 3) return undefined;
  const [a, b] = entries.slice(-2);
  return a !== undefined && b !== undefined ? [a, b] : undefined;
}

function headsOf(model: OnnxModel, initializers: ReadonlyMap<string, TensorInfo>, hidden: number | undefined): number | undefined {
  const fused = mostCommon(model.nodes.map((n) => n.ints.num_heads).filter((h): h is number => h !== undefined && h > 0));
  if (fused !== undefined || hidden === undefined) return fused;
  const constants = constantsOf(model, initializers);
  const producers = new Map(model.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const heads: number[] = [];
  for (const node of model.nodes) {
    if (node.op !== 'Reshape' || node.inputs[1] === undefined) continue;
    const tail = shapeTail(node.inputs[1], constants, producers);
    // [.., heads, head size] with heads x head size = hidden; [.., hidden, 1]-like splits are not heads.
    if (tail !== undefined && tail[0] > 1 && tail[1] > 1 && tail[0] * tail[1] === hidden) heads.push(tail[0]);
  }
  return mostCommon(heads);
}

export function factsFromGraph(model: OnnxModel): FactValues {
  const initializers = new Map(model.initializers.map((t) => [t.name, t]));
  const values: FactValues = {};
  const layers = layersOf(model);
  if (layers !== undefined) values.layers = layers;
  const embedding = embeddingOf(model, initializers);
  if (embedding !== undefined) {
    values.vocab = embedding.dims[0]!;
    values.hidden = embedding.dims[1]!;
  }
  if (values.hidden !== undefined) {
    const ffn = ffnOf(model, initializers, values.hidden);
    if (ffn !== undefined) values.ffn = ffn;
  }
  const heads = headsOf(model, initializers, values.hidden);
  if (heads !== undefined) values.heads = heads;
  return values;
}
