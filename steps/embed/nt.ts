// Owns the `embed/nt` step: Nucleotide Transformer embeddings from a model folder, computed by the
// runtime of the device the step is placed on — onnxruntime (the folder's model.onnx, or an .onnx path)
// or JAX on XLA devices (the folder's config.json and weights, runtime/jax). Moving the step is changing
// `on:`; the runtime and precision are part of the cache key, the mesh and batch are not.
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { defineStep, StepError } from '../../engine/index.js';
import { embedShardsWithJax } from './embed-jax-shards.js';
import { NT_JAX_FACTS } from './nt-jax-job.js';
import { embedShardsWithOnnx } from './embed-onnx-shards.js';
import {
  ONNX_EXECUTION_KEYS,
  ONNX_EXECUTION_SCHEMA,
  POOLING_SCHEMA,
  type OnnxExecutionParams,
  type PoolingParams,
} from './embed-params.js';

export interface NtEmbedParams extends PoolingParams, Omit<OnnxExecutionParams, 'output'> {
  model: string;
}

export const ntEmbed = defineStep<NtEmbedParams>({
  id: 'embed/nt',
  version: '1',
  description:
    'Embed token shards with a Nucleotide Transformer model folder, on the runtime of its device (onnxruntime, or JAX on a mesh).',
  with: {
    required: ['model'],
    properties: {
      model: {
        type: 'string',
        'x-strand-path': 'input',
        'x-strand-format': 'model',
        'x-strand-uri-remote': ['gs'],
        description:
          'a Hugging Face model folder (config.json + model.safetensors or pytorch_model.bin, for JAX; model.onnx, for onnxruntime) or an .onnx file; on a TPU device also a gs:// folder, read by the hosts',
      },
      ...POOLING_SCHEMA,
      ...ONNX_EXECUTION_SCHEMA,
    },
  },
  execution: ONNX_EXECUTION_KEYS,
  runtimes: ['onnx', 'jax'],
  inputs: {
    tokens: { type: 'tokens' },
    adapters: { type: 'adapters', optional: true, description: 'LoRA adapters from finetune/nt-lora (JAX only): fine-tuned embeddings' },
  },
  shardParallel: { shardsFrom: 'tokens' },
  jax: NT_JAX_FACTS,
  outputs: { embeddings: { type: 'embeddings' } },
  async run(ctx) {
    const p = ctx.params;
    if (ctx.placement.runtime === 'jax') return embedShardsWithJax(ctx);
    if (ctx.optionalInput('adapters') !== undefined)
      throw new StepError(
        'LoRA adapters are applied by the JAX runtime; this step runs onnxruntime',
        'place the step on a device with runtime: jax (e.g. { kind: cpu, runtime: jax, devices: 8 })',
      );
    // Validation checked that the folder has a model.onnx (runtime-model-missing).
    const file = statSync(ctx.resolvePath(p.model)).isDirectory() ? join(p.model, 'model.onnx') : p.model;
    const summary = await embedShardsWithOnnx(ctx, p, file);
    return { ...summary, runtime: 'onnx' };
  },
});
