// Owns the `embed/onnx` step: token shards in, one pooled vector per sequence out, with provenance
// (model digest and its external data files' digests, output, pooling rule, tokenizer) recorded on the
// embeddings artifact.
import { availableParallelism } from 'node:os';
import { defineStep, describeExternalDataProblem, onnxModelFiles, StepError, arrow } from '../../engine/index.js';
import { readText, readTokenLists, textColumn, vectorColumn } from '../arrow-columns.js';
import type { TokenizerFacts } from '../tokenize/token-shards.js';
import { EmbedderPool } from './embedder-pool.js';
import { OnnxEmbedder } from './onnx-embedder.js';
import { mergeWindows, type Pooling } from './pooling.js';

const { Table } = arrow;

export interface OnnxEmbedParams {
  model: string;
  output?: string;
  pooling?: Pooling;
  include_cls?: boolean;
  normalize?: boolean;
  batch_size?: number;
  threads?: number;
  bucket?: boolean;
}

export const onnxEmbed = defineStep<OnnxEmbedParams>({
  id: 'embed/onnx',
  version: '1',
  description: 'Embed token shards with an ONNX model (onnxruntime), pooling hidden states per sequence.',
  with: {
    required: ['model'],
    properties: {
      model: { type: 'string', 'x-strand-path': 'input', 'x-strand-format': 'onnx', description: 'an ONNX file with inputs input_ids, attention_mask (with its external data files beside it, if any)' },
      output: { type: 'string', description: 'hidden-state output name (default last_hidden_state)' },
      pooling: { enum: ['mean', 'cls', 'max'], default: 'mean' },
      include_cls: { type: 'boolean', default: true, description: 'count CLS in mean/max pooling (HF model card: true; InstaDeep notebook: false)' },
      normalize: { type: 'boolean', default: false, description: 'L2-normalise each vector' },
      batch_size: { type: 'integer', minimum: 1, default: 32, description: 'sequences per session.run (execution setting, not in the cache key)' },
      threads: { type: 'integer', minimum: 1, description: 'onnxruntime intra-op threads (default: all cores)' },
      bucket: { type: 'boolean', default: true, description: 'batch sequences of similar length to minimise padding' },
    },
  },
  execution: ['batch_size', 'threads', 'bucket'],
  inputs: { tokens: { type: 'tokens' } },
  shardParallel: { shardsFrom: 'tokens' },
  outputs: { embeddings: { type: 'embeddings' } },
  async run(ctx) {
    const p = ctx.params;
    const input = ctx.input('tokens');
    const facts = input.meta as unknown as TokenizerFacts;
    const rule = { pooling: p.pooling ?? 'mean', includeCls: p.include_cls ?? true, prefix: facts.prefix, normalize: p.normalize ?? false } as const;
    if (rule.pooling === 'cls' && facts.prefix < 1) throw new StepError(`pooling: cls needs a tokenizer that puts CLS first; ${facts.tokenizer} does not`, 'use pooling: mean');
    // N data-parallel workers (worker threads, each with its own session and floor(threads / N) threads)
    // take the next shard when free. A shard's vectors do not depend on which worker made it. The session
    // opened here also checks the model and names its output.
    const workers = Math.max(1, Math.min(ctx.workers, input.shardCount));
    const threads = Math.max(1, Math.floor((p.threads ?? availableParallelism()) / workers));
    const options = { threads, ...(p.output ? { output: p.output } : {}) };
    const modelFiles = onnxModelFiles(ctx.resolvePath(p.model));
    const problem = 'error' in modelFiles ? undefined : modelFiles.problems[0];
    if (problem !== undefined) {
      const { message, hint } = describeExternalDataProblem(p.model, problem);
      throw new StepError(message, hint);
    }
    const embedder = await OnnxEmbedder.open(ctx.resolvePath(p.model), p.model, options);
    const pool = workers > 1 ? EmbedderPool.open(workers, ctx.resolvePath(p.model), p.model, { ...options, output: embedder.output }) : undefined;
    const output = ctx.output('embeddings');
    let sequences = 0;
    let tokens = 0;
    let dim = 0;
    let next = 0;
    let finished = 0;
    const work = async (): Promise<void> => {
      for (let index = next++; index < input.shardCount && !ctx.signal.aborted; index = next++) {
        await output.shard(index, async () => {
          const table = await input.readShard(index);
          const rows = readTokenLists(table, 'tokens');
          const embedded = await (pool ?? embedder).embed(rows, facts.pad_id, p.batch_size ?? 32, rule, p.bucket ?? true);
          dim = embedded.dim;
          const merged = mergeWindows(readText(table, 'id'), embedded.flat, dim, rule.normalize);
          sequences += merged.ids.length;
          tokens += rows.reduce((n, r) => n + r.length, 0);
          return new Table({ id: textColumn(merged.ids), vector: vectorColumn(merged.flat, dim) });
        });
        ctx.progress({ done: ++finished, total: input.shardCount, unit: 'shards', counters: { sequences, tokens } });
      }
    };
    try {
      await Promise.all(Array.from({ length: workers }, work));
    } finally {
      await Promise.all([embedder.close(), pool?.close()]);
    }
    // The weights of an export over 2 GB are in its data files: they identify the model as much as model.onnx.
    const dataDigests = 'error' in modelFiles ? [] : modelFiles.files.map((f) => [f.location, ctx.fileDigest(f.path) ?? null]);
    output.setMeta({ kind: 'onnx', model: p.model, model_digest: ctx.fileDigest(p.model), ...(dataDigests.length > 0 ? { model_data_digests: Object.fromEntries(dataDigests) } : {}), output: embedder.output, ...rule, tokenizer: facts, ...(dim ? { dim } : {}) });
    return { sequences, tokens };
  },
});
