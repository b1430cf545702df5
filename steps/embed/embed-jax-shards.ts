// Owns embedding token shards with the JAX runtime inside a step: the shards an earlier attempt did not
// finish go to one `python -m strand_jax embed` process (one start-up and one compilation per length
// bucket for all of them), and each vector shard it reports durable is recorded at once, so a killed run
// resumes after the last one. The placement gives the mesh, the per-device batch, the precision and the
// host devices.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arrow, runJaxEmbed, type JaxEmbedSummary, type StepContext, type StepSummary } from '../../engine/index.js';
import { readTokenLists } from '../arrow-columns.js';
import type { TokenizerFacts } from '../tokenize/token-shards.js';
import { unpackDirectory } from '../finetune/directory-bytes.js';
import { poolingRule } from './embed-onnx-shards.js';
import type { PoolingParams } from './embed-params.js';

/** @param model the model folder as the workflow names it, relative to the workdir */
export async function embedShardsWithJax<P extends object>(ctx: StepContext<P>, p: PoolingParams, model: string): Promise<StepSummary> {
  const input = ctx.input('tokens');
  const facts = input.meta as unknown as TokenizerFacts;
  const rule = poolingRule(p, facts);
  const output = ctx.output('embeddings');
  const placement = ctx.placement;
  const todo: number[] = [];
  for (let index = 0; index < input.shardCount; index++) {
    if (!output.isDone(index)) todo.push(index);
    else await output.shard(index, () => Promise.reject(new Error('bug: a completed shard was produced again')));
  }
  let sequences = 0;
  let tokens = 0;
  let dim: number | undefined;
  let summary: JaxEmbedSummary | undefined;
  if (todo.length > 0 && !ctx.signal.aborted) {
    const scratch = mkdtempSync(join(tmpdir(), 'strand-jax-'));
    try {
      mkdirSync(join(scratch, 'tokens'));
      const adapters = ctx.optionalInput('adapters');
      if (adapters !== undefined)
        unpackDirectory((await adapters.readShard(0)).getChild('peft')!.get(0) as Uint8Array, join(scratch, 'adapters'));
      const files: string[] = [];
      for (const index of todo) {
        const table = await input.readShard(index);
        tokens += readTokenLists(table, 'tokens').reduce((n, r) => n + r.length, 0);
        const file = join(scratch, 'tokens', `${String(index).padStart(6, '0')}.arrow`);
        writeFileSync(file, arrow.tableToIPC(table, 'file'));
        files.push(file);
      }
      let finished = input.shardCount - todo.length;
      summary = await runJaxEmbed(
        {
          model: ctx.resolvePath(model),
          tokens: files,
          out: join(scratch, 'vectors'),
          mesh: placement.mesh,
          perDeviceBatch: placement.perDeviceBatch,
          precision: placement.precision,
          pooling: rule.pooling,
          includeCls: rule.includeCls,
          normalize: rule.normalize,
          padId: facts.pad_id,
          prefix: facts.prefix,
          // The tokenizer's cap, not the longest row here: a shard's length buckets (and so its padding)
          // must not depend on which other shards an attempt happens to run.
          maxLength: facts.max_tokens,
          ...(placement.hostDevices !== undefined ? { hostDevices: placement.hostDevices } : {}),
          ...(adapters !== undefined ? { adapters: join(scratch, 'adapters') } : {}),
        },
        {
          signal: ctx.signal,
          env: process.env,
          onShard: async (done) => {
            await output.shard(todo[done.index]!, () => Promise.resolve(arrow.tableFromIPC(readFileSync(done.file))));
            sequences += done.sequences;
            ctx.progress({ done: ++finished, total: input.shardCount, unit: 'shards', counters: { sequences, tokens } });
          },
        },
      );
      dim = summary.dim;
    } catch (error) {
      if ((error as Error).name === 'AbortError') return { sequences }; // stopped by ctx.signal: the run ends interrupted
      throw error;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const adapterMeta = ctx.optionalInput('adapters')?.meta;
  output.setMeta({
    kind: 'nt-jax',
    model,
    model_digest: ctx.fileDigest(model),
    ...(adapterMeta !== undefined ? { adapters: adapterMeta } : {}),
    runtime: 'jax',
    precision: placement.precision,
    ...rule,
    tokenizer: facts,
    ...(dim !== undefined ? { dim } : {}),
  });
  const compiled = summary?.compiled ?? [];
  return {
    sequences,
    tokens,
    runtime: 'jax',
    mesh: `${placement.mesh.data}x${placement.mesh.fsdp}x${placement.mesh.tp}`,
    ...(summary !== undefined
      ? {
          devices: summary.devices,
          platform: summary.platform,
          compilations: summary.compilations,
          buckets: compiled.map((c) => c.bucket).join(','),
          compile_seconds: summary.compile_seconds,
          compile_seconds_by_bucket: compiled.map((c) => `${c.bucket}:${c.seconds}`).join(','),
        }
      : {}),
  };
}
