// Owns what the hand-built ONNX encoders share (the repository's tiny NT in build-tiny-nt.ts, the
// optimum-like test models): collecting initializers and nodes in order, and the encoder's interface
// (input_ids and attention_mask in, last_hidden_state out). Each model names its own nodes.
import { TensorType, type Graph, type Node, type Tensor } from '../steps/onnx-proto.js';

/** The sizes of a seeded hand-built encoder. */
export interface EncoderShape {
  vocab: number;
  hidden: number;
  heads: number;
  layers: number;
  ffn: number;
  seed: number;
}

export interface GraphParts {
  initializers: Tensor[];
  nodes: Node[];
  /** Adds a float initializer; returns its name. */
  floats: (name: string, dims: number[], data: ArrayLike<number>) => string;
  /** Adds an int64 initializer; returns its name. */
  ints: (name: string, dims: number[], values: number[]) => string;
}

export function graphParts(): GraphParts {
  const initializers: Tensor[] = [];
  return {
    initializers,
    nodes: [],
    floats: (name, dims, data) => {
      initializers.push({ name, dims, type: TensorType.FLOAT, data: Float32Array.from(data) });
      return name;
    },
    ints: (name, dims, values) => {
      initializers.push({ name, dims, type: TensorType.INT64, data: BigInt64Array.from(values.map(BigInt)) });
      return name;
    },
  };
}

/** An encoder graph: int64 `input_ids` and `attention_mask` [batch, sequence] in, float `last_hidden_state` out. */
export function encoderGraph(name: string, parts: GraphParts, hidden: number, axes: readonly [batch: string, sequence: string]): Graph {
  const [batch, sequence] = axes;
  return {
    name,
    nodes: parts.nodes,
    initializers: parts.initializers,
    inputs: [
      { name: 'input_ids', type: TensorType.INT64, shape: [batch, sequence] },
      { name: 'attention_mask', type: TensorType.INT64, shape: [batch, sequence] },
    ],
    outputs: [{ name: 'last_hidden_state', type: TensorType.FLOAT, shape: [batch, sequence, hidden] }],
  };
}
