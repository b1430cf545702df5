// Owns embedding token shards with onnxruntime inside a step: N data-parallel workers take shards as they
// free up, each output shard is one pooled vector per sequence (windows averaged), and the provenance
// (model digest and its external data files' digests, output, pooling rule, tokenizer) goes on the
// embeddings artifact. The one implementation behind embed/onnx and embed/nt on runtime onnx.
import { availableParallelism } from 'node:os';
import {
  describeExternalDataProblem,
  onnxModelBytes,
  onnxModelFiles,
  StepError,
  arrow,
  type StepContext,
  type StepSummary,
} from '../../engine/index.js';
import { readText, readTokenLists, textColumn, vectorColumn } from '../arrow-columns.js';
import type { TokenizerFacts } from '../tokenize/token-shards.js';
import type { OnnxExecutionParams, PoolingParams } from './embed-params.js';
import { EmbedderPool } from './embedder-pool.js';
import { onnxCpuLayout } from './onnx-cpu-layout.js';
import { OnnxEmbedder } from './onnx-embedder.js';
import { mergeWindows, type PoolingRule } from './pooling.js';

/** The pooling rule of a step's params and its tokens; CLS pooling needs a tokenizer that puts CLS first. */
export function poolingRule(p: PoolingParams, facts: TokenizerFacts): PoolingRule {
  const rule = { pooling: p.pooling, includeCls: p.include_cls, prefix: facts.prefix, normalize: p.normalize } as const;
  if (rule.pooling === 'cls' && facts.prefix < 1)
    throw new StepError(`pooling: cls needs a tokenizer that puts CLS first; ${facts.tokenizer} does not`, 'use pooling: mean');
  return rule;
}

/**
 * @param model the ONNX file as the workflow names it (for messages and provenance), relative to the workdir
 */
export async function embedShardsWithOnnx<P extends object>(
  ctx: StepContext<P>,
  p: PoolingParams & OnnxExecutionParams,
  model: string,
): Promise<StepSummary> {
  const input = ctx.input('tokens');
  const facts = input.meta as unknown as TokenizerFacts;
  const rule = poolingRule(p, facts);
  const batching = { padId: facts.pad_id, batchSize: p.batch_size, rule, bucket: p.bucket };
  const modelFiles = onnxModelFiles(ctx.resolvePath(model));
  const problem = 'error' in modelFiles ? undefined : modelFiles.problems[0];
  if (problem !== undefined) {
    const { message, hint } = describeExternalDataProblem(model, problem);
    throw new StepError(message, hint);
  }
  // N data-parallel workers (worker threads, each with its own session and a share of the cores) take the
  // next shard when free (onnx-cpu-layout.ts says how many). A shard's vectors do not depend on which worker
  // made it. The session opened here, while the workers start, checks the model and names its output (each
  // worker names the same, by the same rule); with workers it then closes, so N sessions hold the model.
  const cores = availableParallelism();
  const { sessions: workers, threadsPerSession: threads } = onnxCpuLayout({
    declaredSessions: ctx.workers,
    threads: p.threads ?? cores,
    cores,
    shards: input.shardCount,
    modelBytes: onnxModelBytes(ctx.resolvePath(model), modelFiles),
  });
  const options = { threads, ...(p.output ? { output: p.output } : {}) };
  const pool = workers > 1 ? EmbedderPool.open(workers, ctx.resolvePath(model), model, options) : undefined;
  const opened = await OnnxEmbedder.open(ctx.resolvePath(model), model, options).catch(async (error: unknown) => {
    await pool?.close();
    throw error;
  });
  const outputName = opened.output;
  if (pool !== undefined) await opened.close();
  const embedder = pool ?? opened;
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
        const embedded = await embedder.embed(rows, batching);
        dim = embedded.dim;
        const merged = mergeWindows(readText(table, 'id'), embedded.flat, dim, rule.normalize);
        sequences += merged.ids.length;
        tokens += rows.reduce((n, r) => n + r.length, 0);
        return new arrow.Table({ id: textColumn(merged.ids), vector: vectorColumn(merged.flat, dim) });
      });
      ctx.progress({ done: ++finished, total: input.shardCount, unit: 'shards', counters: { sequences, tokens } });
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, work));
  } finally {
    await embedder.close();
  }
  // The weights of an export over 2 GB are in its data files: they identify the model as much as model.onnx.
  const dataDigests = 'error' in modelFiles ? [] : modelFiles.files.map((f) => [f.location, ctx.fileDigest(f.path) ?? null]);
  output.setMeta({
    kind: 'onnx',
    model,
    model_digest: ctx.fileDigest(model),
    ...(dataDigests.length > 0 ? { model_data_digests: Object.fromEntries(dataDigests) } : {}),
    output: outputName,
    ...rule,
    tokenizer: facts,
    ...(dim ? { dim } : {}),
  });
  return { sequences, tokens, sessions: workers };
}
