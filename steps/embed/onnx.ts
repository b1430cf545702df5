// Owns the `embed/onnx` step: token shards in, one pooled vector per sequence out, computed by
// onnxruntime (embed-onnx-shards.ts, shared with embed/nt), with provenance on the embeddings artifact.
import { defineStep } from '../../engine/index.js';
import {
  ONNX_EXECUTION_KEYS,
  ONNX_EXECUTION_SCHEMA,
  POOLING_SCHEMA,
  type OnnxExecutionParams,
  type PoolingParams,
} from './embed-params.js';
import { embedShardsWithOnnx } from './embed-onnx-shards.js';

export interface OnnxEmbedParams extends PoolingParams, OnnxExecutionParams {
  model: string;
}

export const onnxEmbed = defineStep<OnnxEmbedParams>({
  id: 'embed/onnx',
  version: '1',
  description: 'Embed token shards with an ONNX model (onnxruntime), pooling hidden states per sequence.',
  with: {
    required: ['model'],
    properties: {
      model: {
        type: 'string',
        'x-strand-path': 'input',
        'x-strand-format': 'onnx',
        'x-strand-uri-remote': ['gs'],
        description:
          'an ONNX file with inputs input_ids, attention_mask (with its external data files beside it, if any); on a TPU device also gs://bucket/model.onnx, read by the hosts',
      },
      output: { type: 'string', description: 'hidden-state output name (default last_hidden_state)' },
      ...POOLING_SCHEMA,
      ...ONNX_EXECUTION_SCHEMA,
    },
  },
  execution: ONNX_EXECUTION_KEYS,
  inputs: { tokens: { type: 'tokens' } },
  shardParallel: { shardsFrom: 'tokens' },
  outputs: { embeddings: { type: 'embeddings' } },
  run: (ctx) => embedShardsWithOnnx(ctx, ctx.params, ctx.params.model),
});
