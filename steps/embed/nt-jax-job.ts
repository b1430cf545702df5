// Owns embed/nt's JAX facts (`StepPlugin.jax`): the one job its shards are computed with — the model,
// the pooling rule, the tokenizer's padding and last length bucket, and the resolved placement — and the
// embeddings' meta, the same whether a local process or the hosts of a TPU slice ran the job.
import { jaxPlacement, type ArtifactMeta, type EmbedJob, type JaxFacts, type RunPlacement } from '../../engine/index.js';
import type { TokenizerFacts } from '../tokenize/token-shards.js';
import { poolingRule } from './embed-onnx-shards.js';
import type { PoolingParams } from './embed-params.js';

export interface NtJaxParams extends PoolingParams {
  model: string;
}

/** The job for `inputs` (the tokens' meta; the adapters' when wired) on `placement`. */
export function ntEmbedJob(p: NtJaxParams, inputs: Readonly<Record<string, ArtifactMeta>>, placement: RunPlacement): EmbedJob {
  const facts = inputs.tokens as unknown as TokenizerFacts;
  const rule = poolingRule(p, facts);
  return {
    kind: 'embed',
    model: p.model,
    pooling: rule.pooling,
    include_cls: rule.includeCls,
    prefix: rule.prefix,
    normalize: rule.normalize,
    pad_id: facts.pad_id,
    // The tokenizer's cap, not the longest row of a shard: a shard's length buckets (and so its padding)
    // must not depend on which other shards an attempt or a host happens to run.
    max_length: facts.max_tokens,
    adapters: inputs.adapters !== undefined,
    placement: jaxPlacement(placement),
  };
}

/** The embeddings' meta: what made the vectors (model, adapters, runtime, precision, pooling, tokenizer) and their dimension. */
export function ntEmbeddingsMeta(
  job: EmbedJob,
  inputs: Readonly<Record<string, ArtifactMeta>>,
  reported: { dim?: number },
  modelDigest: string | undefined,
): Record<string, ArtifactMeta> {
  return {
    embeddings: {
      kind: 'nt-jax',
      model: job.model,
      ...(modelDigest !== undefined ? { model_digest: modelDigest } : {}),
      ...(inputs.adapters !== undefined ? { adapters: inputs.adapters } : {}),
      runtime: 'jax',
      precision: job.placement.precision,
      pooling: job.pooling,
      includeCls: job.include_cls,
      prefix: job.prefix,
      normalize: job.normalize,
      tokenizer: inputs.tokens,
      ...(reported.dim !== undefined ? { dim: reported.dim } : {}),
    },
  };
}

export const NT_JAX_FACTS: JaxFacts<NtJaxParams> = {
  program: 'embed-forward',
  shardJob: ntEmbedJob,
  outputMeta: ntEmbeddingsMeta,
};
