// Owns the parameters every NT embedding step shares (embed/onnx, embed/nt): how hidden states are pooled
// into one vector per sequence, and the onnxruntime execution settings. One schema, so both steps accept,
// document and key the same `with:`.
import type { Pooling } from './pooling.js';

export interface PoolingParams {
  pooling: Pooling;
  include_cls: boolean;
  normalize: boolean;
}

/** onnxruntime execution settings (not in the cache key). */
export interface OnnxExecutionParams {
  output?: string;
  batch_size: number;
  threads?: number;
  bucket: boolean;
}

export const POOLING_SCHEMA = {
  pooling: { enum: ['mean', 'cls', 'max'], default: 'mean' },
  include_cls: {
    type: 'boolean',
    default: true,
    description: 'count CLS in mean/max pooling (HF model card: true; InstaDeep notebook: false)',
  },
  normalize: { type: 'boolean', default: false, description: 'L2-normalise each vector' },
} as const;

export const ONNX_EXECUTION_SCHEMA = {
  batch_size: {
    type: 'integer',
    minimum: 1,
    default: 32,
    description: 'sequences per session.run (execution setting, not in the cache key)',
  },
  threads: {
    type: 'integer',
    minimum: 1,
    description: "the cores onnxruntime uses, shared among the step's sessions (default: all cores)",
  },
  bucket: { type: 'boolean', default: true, description: 'batch sequences of similar length to minimise padding' },
} as const;

export const ONNX_EXECUTION_KEYS = ['batch_size', 'threads', 'bucket'] as const;
