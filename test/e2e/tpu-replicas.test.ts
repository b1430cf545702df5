// One embed/nt step over three spot TPU nodes (`replicas: 3`) from a workflow file, through the built CLI,
// against the local GCS and TPU servers (test/emulators): the three nodes are created together, their hosts
// (the Python worker, 4 XLA CPU devices each) claim shards as they free up, one node is preempted just after
// it claimed its second shard, and the engine releases that claim and replaces the node. The vectors are
// compared byte for byte with the same workflow on 4 local XLA devices, one process (jax-on-tpu.test.ts shows
// one node gives those bytes too). Nothing here reaches Google Cloud.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostProgress, ShardClaim, ShardMarker } from '../../engine/cloud/worker-contract.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import { deviceBucket } from '../helpers/device-bucket.js';
import { TEST_BUCKET, useLocalCloud } from '../helpers/local-cloud.js';
import { copyFromRepo, removeProjects, runCliAsync, writeProject } from '../helpers/project.js';

const cloud = useLocalCloud({ jaxHosts: true });
afterEach(removeProjects);

const FLOW = (on: 'pods' | 'host') => `version: 1
name: tpu-replicas
devices:
  pods: { kind: tpu, type: v4-8, replicas: 3, spot: true, project: test-project, zone: us-central2-b, bucket: gs://strand-test/strand }
  host: { kind: cpu, runtime: jax, devices: 4 }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 125 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed:
    uses: embed/nt
    needs: [tokens]
    with: { model: models/tiny-nt, pooling: mean }
    on: ${on}
    mesh: { data: 1, fsdp: 2, tp: 2 }
    batch: { per_device: 4 }
    precision: fp32
  vectors: { uses: export/parquet, needs: [embed, source], with: { path: out/v.parquet } }
`;

function project(on: 'pods' | 'host'): string {
  const root = writeProject({ 'flow.yaml': FLOW(on) });
  copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt');
  return root;
}

const bucket = deviceBucket(cloud);
const stored = <T>(name: string): T => JSON.parse(cloud.gcs.buckets.get(TEST_BUCKET)!.get(name)!.bytes.toString()) as T;
const claimWrites = () => cloud.gcs.writes.filter((n) => n.includes('/claims/'));

async function run(root: string, output: '--plain' | '--json' = '--plain') {
  const result = await runCliAsync(['run', 'flow.yaml', output], root, cloud.env());
  expect(result.stderr).toBe('');
  expect(result.status, result.stdout).toBe(0);
  return result;
}

describe('embed/nt over 3 spot v4-8 nodes (replicas: 3), from a workflow file', () => {
  it('plans three nodes and the shards each gets', async () => {
    const root = project('pods');
    const plan = await runCliAsync(['plan', 'flow.yaml', '--plain'], root, cloud.env());
    expect(plan.status).toBe(0);
    expect(plan.stdout).toMatch(/embed .*\[tpu v4-8 x3 nodes \(spot\) mesh 1x2x2 batch 4\/dev; .*8 shards over 3 nodes: 3, 3, 2/);
    const json = JSON.parse((await runCliAsync(['plan', 'flow.yaml', '--json'], root, cloud.env())).stdout) as {
      steps: { step: string; placement: { estimate?: { nodes?: unknown; sequences?: number } } | null }[];
    };
    const embed = json.steps.find((s) => s.step === 'embed')!.placement!.estimate!;
    expect(embed).toMatchObject({ sequences: 1000, nodes: { replicas: 3, shardsPerNode: [3, 3, 2] } });
  });

  it('refuses replicas: on a GPU at its key, and for a step strand worker runs before anything starts', async () => {
    const gpu = writeProject({
      'flow.yaml': FLOW('host').replace('host: { kind: cpu, runtime: jax, devices: 4 }', 'host: { kind: gpu, type: h100, replicas: 2 }'),
    });
    copyFromRepo(gpu, 'workflows/data/sample.parquet', 'models/tiny-nt');
    const invalid = await runCliAsync(['validate', 'flow.yaml'], gpu, cloud.env());
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('flow.yaml:5:');
    expect(invalid.stderr).toContain(
      'error: replicas: is for kind: tpu devices (nodes a shard-parallel step runs on at once); a gpu device has none',
    );
    const onnx = writeProject({
      'flow.yaml': FLOW('pods')
        .replace('uses: embed/nt', 'uses: embed/onnx')
        .replace('{ model: models/tiny-nt, pooling: mean }', '{ model: models/tiny-nt.onnx }'),
    });
    copyFromRepo(onnx, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
    const refused = await runCliAsync(['run', 'flow.yaml', '--plain'], onnx, cloud.env());
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(
      'step "embed" (on: pods): replicas: 3 runs a shard-parallel step of the JAX worker (embed/nt) over many nodes, whose hosts claim shards; embed/onnx runs on `strand worker`, whose hosts split shards by index: use a device without replicas:',
    );
    expect(cloud.tpu.events).toEqual([]);
  });

  it('hands shards out as hosts free up, finishes a preempted node’s claim elsewhere, deletes every node', async () => {
    const root = project('pods');
    // The first host to claim a shard after finishing one is preempted there: its node holds an unmarked claim.
    let preempted: string | undefined;
    cloud.gcs.onWrite = (_bucket, name) => {
      if (preempted !== undefined || !name.includes('/claims/')) return;
      const claim = stored<ShardClaim>(name);
      if (!bucket.markers().some((m) => m.attempt === claim.attempt)) return;
      preempted = [...cloud.tpu.nodes.keys()].map((n) => n.split('/').pop()!).find((id) => id.endsWith(`-${claim.attempt}`))!;
      cloud.tpu.preempt(preempted);
    };
    const events = (await run(root, '--json')).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    const logs = events.flatMap((e) => (e.kind === 'step-log' ? [e.message] : [])).join('\n');
    expect(preempted).toBeDefined();
    expect(logs).toMatch(new RegExp(`${preempted} was (PREEMPTED|SUSPENDED) with \\d of 8 shards to do; recreating it`));
    expect(logs).toContain(`released 1 shard claim of ${preempted}`);
    // Live progress reached the run's events between markers: at the latest, the poll that found the node lost
    // read its host's progress object (written at its first batch) before the object was deleted.
    const live = events.flatMap((e) => (e.kind === 'step-progress' && e.values !== undefined ? [e] : []));
    expect(live.length).toBeGreaterThan(0);
    // The ETA falls to 0 once the last shard is home while its host has not written its last progress yet.
    expect(live[0]!.etaSeconds).toBeGreaterThan(0);
    for (const e of live) {
      expect(e.values!['tokens/s']).toBeGreaterThan(0);
      expect(e.etaSeconds).toBeGreaterThanOrEqual(0);
    }
    // Three nodes created together (all before the preemption), then the one replacement.
    const creates = cloud.tpu.events.flatMap((e, at) => (e.startsWith('create') ? [at] : []));
    expect(creates).toHaveLength(4);
    expect(creates[2]).toBeLessThan(cloud.tpu.events.indexOf(`preempt ${preempted}`));
    expect(cloud.tpu.events.filter((e) => e.startsWith('preempt'))).toEqual([`preempt ${preempted}`]);
    // Every node deleted, the preempted one included: the local TPU server's node and queued-resource lists are empty.
    expect(cloud.tpu.events.filter((e) => e.startsWith('delete'))).toHaveLength(4);
    expect(cloud.tpu.nodes.size + cloud.tpu.queued.size).toBe(0);
    // No shard computed twice into the result: one marker write per shard, each by the host holding its claim.
    expect(bucket.markerWrites()).toHaveLength(8);
    expect(new Set(bucket.markerWrites()).size).toBe(8);
    const markers: ShardMarker[] = bucket.markers();
    for (const m of markers)
      expect(stored<ShardClaim>(`strand/jobs/${bucket.jobSpecs()[0]!.key}/claims/${String(m.index).padStart(6, '0')}.json`)).toEqual({
        index: m.index,
        attempt: m.attempt,
        worker: m.worker,
      });
    // The released claim was made again by another host: 8 shards, 9 claims.
    expect(claimWrites()).toHaveLength(9);
    const lost = Number(preempted!.split('-').pop());
    expect(markers.filter((m) => m.attempt === lost)).toHaveLength(1);
    // The hosts' last progress writes count the rows they marked; the lost node's progress object is gone.
    const progress = cloud.gcs.objectNames(TEST_BUCKET, 'strand/jobs/').filter((n) => n.includes('/progress/'));
    expect(progress.filter((n) => n.includes(`/${String(lost).padStart(4, '0')}-`))).toEqual([]);
    const rowsOf = (attempt: number) => markers.filter((m) => m.attempt === attempt).reduce((n, m) => n + m.rows, 0);
    for (const name of progress) {
      const host = stored<HostProgress>(name);
      expect(host.rows).toBe(rowsOf(host.attempt));
      if (host.rows > 0) expect(host.tokens).toBeGreaterThan(host.rows);
    }
    // Every node's job spec lists every shard without a marker: none is split up front.
    expect(
      bucket
        .jobSpecs()
        .slice(0, 3)
        .map((j) => j.shards),
    ).toEqual([0, 1, 2].map(() => [0, 1, 2, 3, 4, 5, 6, 7]));
    const local = project('host');
    await run(local);
    expect(readFileSync(join(root, 'out/v.parquet')).equals(readFileSync(join(local, 'out/v.parquet')))).toBe(true);
  }, 900_000);
});
