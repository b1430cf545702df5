// Owns embedding token shards with the JAX runtime inside a step: the shards an earlier attempt did not
// finish go to one local JAX job (one start-up and one compilation per length bucket for all of them), and
// each vector shard it reports durable is recorded at once, so a killed run resumes after the last one.
// The job is the one the hosts of a TPU slice get (nt-jax-job.ts); only the paths are this machine's.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  arrow,
  runJaxJob,
  type ArtifactMeta,
  type JaxEmbedSummary,
  type JaxShardDone,
  type StepContext,
  type StepSummary,
} from '../../engine/index.js';
import { readTokenLists } from '../arrow-columns.js';
import { unpackDirectory } from '../finetune/directory-bytes.js';
import { ntEmbeddingsMeta, ntEmbedJob, type NtJaxParams } from './nt-jax-job.js';

export async function embedShardsWithJax<P extends NtJaxParams>(ctx: StepContext<P>): Promise<StepSummary> {
  const input = ctx.input('tokens');
  const adapters = ctx.optionalInput('adapters');
  const inputs: Record<string, ArtifactMeta> = { tokens: input.meta, ...(adapters !== undefined ? { adapters: adapters.meta } : {}) };
  const job = ntEmbedJob(ctx.params, inputs, ctx.placement);
  const output = ctx.output('embeddings');
  const todo: number[] = [];
  for (let index = 0; index < input.shardCount; index++) {
    if (!output.isDone(index)) todo.push(index);
    else await output.shard(index, () => Promise.reject(new Error('bug: a completed shard was produced again')));
  }
  let sequences = 0;
  let tokens = 0;
  let summary: JaxEmbedSummary | undefined;
  if (todo.length > 0 && !ctx.signal.aborted) {
    const scratch = mkdtempSync(join(tmpdir(), 'strand-jax-'));
    try {
      mkdirSync(join(scratch, 'tokens'));
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
      const paths = {
        model: ctx.resolvePath(job.model),
        ...(adapters !== undefined ? { adapters: join(scratch, 'adapters') } : {}),
        tokens: files,
        out: join(scratch, 'vectors'),
      };
      const last = await runJaxJob({ job, paths }, join(scratch, 'run.json'), {
        signal: ctx.signal,
        env: process.env,
        onEvent: async (event) => {
          if (event.kind !== 'shard-done') return;
          const done = event as unknown as JaxShardDone;
          await output.shard(todo[done.index]!, () => Promise.resolve(arrow.tableFromIPC(readFileSync(done.file))));
          sequences += done.sequences;
          ctx.progress({ done: ++finished, total: input.shardCount, unit: 'shards', counters: { sequences, tokens } });
        },
      });
      summary = last as unknown as JaxEmbedSummary;
    } catch (error) {
      if ((error as Error).name === 'AbortError') return { sequences }; // stopped by ctx.signal: the run ends interrupted
      throw error;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  // Resumed with nothing left to run: the dimension is the model's hidden size, as the runtime reports it.
  const dim = summary?.dim ?? modelHiddenSize(ctx.resolvePath(job.model));
  output.setMeta(ntEmbeddingsMeta(job, inputs, { dim }, ctx.fileDigest(job.model)).embeddings!);
  const compiled = summary?.compiled ?? [];
  const mesh = job.placement.mesh;
  return {
    sequences,
    tokens,
    runtime: 'jax',
    mesh: `${mesh.data}x${mesh.fsdp}x${mesh.tp}`,
    ...(summary !== undefined
      ? {
          devices: summary.devices,
          platform: summary.platform,
          compilations: summary.compilations,
          buckets: compiled.map((c) => c.bucket).join(','),
          compile_seconds: summary.compile_seconds,
          compile_seconds_by_bucket: compiled.map((c) => `${c.bucket}:${c.seconds}`).join(','),
          ...(summary.peak_bytes_per_device !== null ? { peak_bytes_per_device: summary.peak_bytes_per_device } : {}),
        }
      : {}),
  };
}

function modelHiddenSize(folder: string): number {
  return (JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { hidden_size: number }).hidden_size;
}
