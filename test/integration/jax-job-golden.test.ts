// The JAX jobs the engine builds from checked workflows are the committed golden files
// runtime/jax/tests/golden/*.json, which the Python tests parse (runtime/jax/tests/test_job.py) and the e2e TPU test expects on the wire: a change to
// the job on one side fails on the other. STRAND_UPDATE_GOLDEN=1 rewrites them from the builders (then `npx prettier --write` them).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRuntimeValue } from '../../engine/jax/runtime-schema.js';
import type { ClusterJob, JaxJob } from '../../engine/jax/jax-job.js';
import { hdbscanClusterJob, type HdbscanParams } from '../../steps/cluster/hdbscan-job.js';
import { ntEmbedJob, type NtJaxParams } from '../../steps/embed/nt-jax-job.js';
import { ntLoraTrainJob, type NtLoraParams } from '../../steps/finetune/nt-lora-job.js';
import { tokenizerFor } from '../../steps/tokenize/tokenizer-for.js';
import { placedWorkflow } from '../helpers/placed-workflow.js';
import { GOLDEN_JOBS } from '../helpers/golden-jobs.js';

const TOKENS = { ...tokenizerFor({ name: 'nucleotide-transformer', version: 2 }).facts };

/** The workflow of issue 23, and nt-lora on a single-host slice. */
const FLOW = `version: 1
name: golden
devices:
  pod: { kind: tpu, type: v4-16, project: test-project, zone: us-central2-b, bucket: gs://strand-test/strand }
  lite: { kind: tpu, type: v5litepod-8, project: test-project, zone: us-west4-a, bucket: gs://strand-test/strand }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 250 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed:
    uses: embed/nt
    needs: [tokens]
    with: { model: models/tiny-nt, pooling: mean }
    on: pod
    mesh: { data: 2, fsdp: 2, tp: 2 }
    batch: { per_device: 4 }
    precision: fp32
  lora:
    uses: finetune/nt-lora
    needs: [tokens, source]
    with: { model: models/tiny-nt, epochs: 1, batch_size: 8 }
    on: lite
    mesh: { data: 4, fsdp: 2 }
  vectors: { uses: export/parquet, needs: [embed, source], with: { path: out/v.parquet } }
  cluster: { uses: cluster/hdbscan, needs: [embed], with: { min_cluster_size: 8, metric: cosine } }
`;

function expectGolden(name: string, job: JaxJob | ClusterJob): void {
  const file = join(GOLDEN_JOBS, name);
  expect(checkRuntimeValue('jaxJob', job.kind === 'cluster' ? 'ClusterJob' : 'JaxJob', job)).toEqual({ ok: true, value: job });
  // Rewriting is for a deliberate change of the job, never in CI (where it would compare a file with itself).
  if (process.env.STRAND_UPDATE_GOLDEN === '1' && process.env.CI === undefined) writeFileSync(file, `${JSON.stringify(job, null, 2)}\n`);
  else expect(job).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

describe('the JAX jobs built from a checked workflow', () => {
  const { workflow, placed } = placedWorkflow(FLOW);
  const step = (id: string) => workflow.steps.find((s) => s.id === id)!;

  it('embed/nt: loading filled its params with defaults, and the job holds only what changes the numbers', () => {
    const embed = step('embed');
    expect(embed.params).toHaveProperty('batch_size'); // what the old job spec carried, and the worker refused
    const job = ntEmbedJob(embed.params as unknown as NtJaxParams, { tokens: TOKENS }, placed.plans.get('embed')!.run);
    expectGolden('embed-job.json', job);
  });

  it('finetune/nt-lora: the train job, its per-device batch from batch_size over data x fsdp', () => {
    const lora = step('lora');
    const labels = {
      levels: ['kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species'],
      classes: [
        ['Fungi'],
        ['Ascomycota'],
        ['Saccharomycetes'],
        ['Saccharomycetales'],
        ['Debaryomycetaceae', 'Pichiaceae'],
        ['Candida', 'Pichia'],
        ['Candida albicans', 'Pichia kudriavzevii'],
      ],
    };
    const job = ntLoraTrainJob(lora.params as unknown as NtLoraParams, labels, TOKENS, placed.plans.get('lora')!.run);
    expect(job.placement.per_device_batch).toBe(1);
    expectGolden('train-job.json', job);
  });

  it('cluster/hdbscan: the cluster job, its defaults filled and min_samples resolved to min_cluster_size', () => {
    const job = hdbscanClusterJob(step('cluster').params as unknown as HdbscanParams);
    expect([job.reduce_to, job.min_samples, job.seed]).toEqual([16, 8, 0]);
    expectGolden('cluster-job.json', job);
  });
});
