// Owns the `cluster/hdbscan` step: novelty clusters over embeddings. The vectors of every shard go to the
// Python runtime as one cluster job (jax_job.schema.json ClusterJob: PCA, then HDBSCAN on the CPU in one
// process, runtime/jax cluster_job.py); each sequence comes back with its cluster (-1: noise), membership
// probability and GLOSH outlier score, and `novel_cluster`: its cluster is one most of whose members
// classify/taxonomy flagged `novel_candidate` (no confident genus) — a candidate new taxon. Output: the
// metadata's columns (or id) plus these four, ready for export/lancedb and export/parquet.
import type { Table, Vector } from 'apache-arrow';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arrow, defineStep, runJaxJob, StepError, type ClusterJob, type InputArtifact } from '../../engine/index.js';
import { readText } from '../arrow-columns.js';
import { hdbscanClusterJob, type HdbscanParams } from './hdbscan-job.js';

/** The columns the step adds, in order (docs/novelty.md). */
export const CLUSTER_COLUMNS = ['cluster', 'probability', 'outlier_score', 'novel_cluster'] as const;

export const hdbscanCluster = defineStep<HdbscanParams>({
  id: 'cluster/hdbscan',
  version: '1',
  description:
    'Cluster embeddings with HDBSCAN after PCA (Python runtime, CPU): cluster, probability, GLOSH outlier score, and novel clusters from a classification.',
  with: {
    properties: {
      min_cluster_size: { type: 'integer', minimum: 2, default: 5, description: 'the smallest group HDBSCAN calls a cluster' },
      min_samples: {
        type: 'integer',
        minimum: 1,
        description: 'neighbours that make a point core: larger is more conservative, more noise (default: min_cluster_size)',
      },
      reduce_to: {
        type: 'integer',
        minimum: 1,
        default: 16,
        description: "PCA components HDBSCAN clusters in (at most the embeddings' dimension)",
      },
      metric: {
        enum: ['euclidean', 'cosine'] satisfies ClusterJob['metric'][],
        default: 'euclidean',
        description: 'cosine: vectors are L2-normalised before PCA',
      },
      seed: { type: 'integer', minimum: 0, default: 0, description: 'chooses the rows PCA is fitted on when there are more than 50,000' },
    },
  },
  inputs: {
    embeddings: { type: 'embeddings' },
    metadata: {
      type: 'sequences',
      optional: true,
      description: "columns passed through (ids must match); classify/taxonomy's annotated output also decides novel_cluster",
    },
  },
  outputs: { clusters: { type: 'sequences' } },
  async run(ctx) {
    const p = ctx.params;
    const embeddings = ctx.input('embeddings');
    const metadata = ctx.optionalInput('metadata');
    if (metadata !== undefined && metadata.shardCount !== embeddings.shardCount)
      throw new StepError(
        `metadata has ${metadata.shardCount} shards but embeddings have ${embeddings.shardCount}`,
        'wire the metadata input to the classification or source the embeddings were made from',
      );
    if (embeddings.rows < p.min_cluster_size)
      throw new StepError(
        `${embeddings.rows} sequences are fewer than min_cluster_size ${p.min_cluster_size}`,
        'lower min_cluster_size or cluster more sequences',
      );
    const job = hdbscanClusterJob(p);
    const scratch = mkdtempSync(join(tmpdir(), 'strand-cluster-'));
    try {
      const shards = await writeJobShards(embeddings, metadata, scratch, p);
      const out = join(scratch, 'out');
      const summary = await runJaxJob({ job, paths: { shards: shards.files, out } }, join(scratch, 'run.json'), {
        signal: ctx.signal,
        env: process.env,
        onEvent: async (event) => {
          ctx.progress({ done: Number(event.done), total: Number(event.total), unit: 'stages' });
        },
      }).catch((error: unknown) => {
        if ((error as Error).name === 'AbortError') return undefined;
        throw error;
      });
      if (summary === undefined) return; // stopped by ctx.signal: the run ends interrupted
      for (let index = 0; index < embeddings.shardCount; index++) {
        await ctx.output('clusters').shard(index, async () => {
          const result = arrow.tableFromIPC(readFileSync(join(out, `${index}.arrow`)));
          const columns: Record<string, Vector> = {};
          const meta = metadata ? await metadata.readShard(index) : await embeddings.readShard(index);
          for (const field of meta.schema.fields) if (metadata || field.name === 'id') columns[field.name] = meta.getChild(field.name)!;
          for (const name of CLUSTER_COLUMNS) columns[name] = result.getChild(name)!;
          return new arrow.Table(columns);
        });
      }
      ctx.output('clusters').setMeta({ clustered_by: 'cluster/hdbscan', novel_from: shards.novelFrom });
      return {
        sequences: Number(summary.sequences),
        clusters: Number(summary.clusters),
        noise: Number(summary.noise),
        novel_clusters: Number(summary.novel_clusters),
        reduced_to: Number(summary.reduced_to),
        seconds: Number(summary.seconds),
        peak_rss_mib: Math.round(Number(summary.peak_rss_bytes) / 2 ** 20),
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
});

/** One job shard per embeddings shard (id, vector, and the metadata's novel_candidate when it has one), after
 * the checks a user can fix: reduce_to within the dimension, matching ids. */
async function writeJobShards(
  embeddings: InputArtifact,
  metadata: InputArtifact | undefined,
  scratch: string,
  p: HdbscanParams,
): Promise<{ files: string[]; novelFrom: 'novel_candidate' | 'none' }> {
  const files: string[] = [];
  let novelFrom: 'novel_candidate' | 'none' = 'none';
  for (let index = 0; index < embeddings.shardCount; index++) {
    const table = await embeddings.readShard(index);
    const dim = (table.getChild('vector')!.type as { listSize: number }).listSize;
    if (p.reduce_to > dim)
      throw new StepError(
        `reduce_to ${p.reduce_to} is more than the embeddings' ${dim} dimensions`,
        `set reduce_to to at most ${dim} (16 is the default)`,
      );
    const columns: Record<string, Vector> = { id: table.getChild('id')!, vector: table.getChild('vector')! };
    if (metadata !== undefined) {
      const meta: Table = await metadata.readShard(index);
      const ids = readText(table, 'id');
      const metaIds = readText(meta, 'id');
      if (metaIds.length !== ids.length || metaIds.some((id, i) => id !== ids[i]))
        throw new StepError(
          `shard ${index}: the metadata ids differ from the embeddings'`,
          'wire the metadata input to the classification or source the embeddings were made from',
        );
      const novel = meta.getChild('novel_candidate');
      if (novel !== null) {
        columns.novel_candidate = novel;
        novelFrom = 'novel_candidate';
      }
    }
    const file = join(scratch, `${index}.arrow`);
    writeFileSync(file, arrow.tableToIPC(new arrow.Table(columns), 'file'));
    files.push(file);
  }
  return { files, novelFrom };
}
