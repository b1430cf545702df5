// The Cloud TPU executor end to end, against the local GCS and TPU servers (test/emulators): the engine
// (the built CLI) provisions through @google-cloud/tpu, stages through @google-cloud/storage, the TPU
// server boots the node's startup script on every host (real `strand worker` processes), and the engine
// collects the shards. Nothing here reaches Google Cloud.
import { readFileSync } from 'node:fs';
import { sha256 } from '../../engine/util/sha256.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardMarker } from '../../engine/cloud/worker-contract.js';
import { deviceBucket, expectSecondAttemptRanTheRest } from '../helpers/device-bucket.js';
import { TEST_BUCKET, useLocalCloud } from '../helpers/local-cloud.js';
import { CLI, copyFromRepo, exited, REPO, removeProjects, runCli, runCliAsync, startCli, writeProject } from '../helpers/project.js';

const cloud = useLocalCloud();
afterEach(removeProjects);

const DEVICE = (extra = '') =>
  `{ kind: tpu, type: v4-16, project: test-project, zone: us-central2-b, bucket: gs://strand-test/strand, worker_command: "${process.execPath} ${CLI}"${extra} }`;

const FLOW = (on: string, device = DEVICE(), model = 'models/tiny-nt.onnx') => `version: 1
name: tpu-embed
devices:
  pod: ${device}
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 100 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed: { uses: embed/onnx, needs: [tokens], with: { model: ${model} }${on} }
  vectors: { uses: export/parquet, needs: [embed], with: { path: out/vectors.parquet } }
`;
const ON_POD = ', on: pod, mesh: { data: 8 }, batch: { per_device: 4 }';

function project(on: string, device?: string, model?: string): string {
  const root = writeProject({ 'flow.yaml': FLOW(on, device, model) });
  copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
  return root;
}

const bucket = deviceBucket(cloud);
const { markerWrites, jobSpecs } = bucket;
/** A marker written by a host of the first attempt. */
const firstAttemptMarkers = (name: string, bytes: Buffer): boolean =>
  name.includes('/markers/') && (JSON.parse(bytes.toString()) as ShardMarker).attempt === 1;

function localVectors(): Buffer {
  const root = project('');
  expect(runCli(['run', 'flow.yaml', '--plain'], root).status).toBe(0);
  return readFileSync(join(root, 'out/vectors.parquet'));
}

describe('Cloud TPU executor (local servers)', () => {
  it('runs a step across the hosts of a slice and collects vectors identical to a local run', async () => {
    const root = project(ON_POD);
    cloud.gcs.inject({ kind: 'status', status: 503, method: 'GET', pathIncludes: '/o', times: 2 });
    cloud.gcs.inject({ kind: 'status', status: 429, method: 'POST', pathIncludes: '/upload/', times: 1 });
    // A worker exits just after its report, which is when the engine deletes the node: the delete waits for
    // the hosts to have exited, so their exit codes are theirs, not the deletion's.
    cloud.tpu.hold({ method: 'DELETE', pathIncludes: '/nodes/' }, () => cloud.tpu.hostsExited());
    const run = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/strand-[0-9a-f]{12}-1 is READY with 2 hosts/);
    expect(cloud.tpu.events).toEqual([
      expect.stringMatching(/^create strand-/),
      expect.stringMatching(/^ready /),
      expect.stringMatching(/^delete /),
    ]);
    expect(cloud.tpu.hostExits.map((h) => [h.host, h.code]).sort()).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(markerWrites()).toHaveLength(10);
    expect(new Set(markerWrites()).size).toBe(10);
    expect(cloud.gcs.log.map((r) => r.status)).toEqual(expect.arrayContaining([503, 429]));
    expect(cloud.gcs.pendingFaults).toBe(0);
    const [job] = jobSpecs();
    expect(job).toMatchObject({
      attempt: 1,
      workers: 2,
      shards: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      placement: { mesh: { data: 8, fsdp: 1, tp: 1 }, perDeviceBatch: 4, globalBatch: 32 },
    });
    expect(readFileSync(join(root, 'out/vectors.parquet')).equals(localVectors())).toBe(true);

    const again = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
    expect(again.status).toBe(0);
    expect(cloud.tpu.events).toHaveLength(3); // cached: no node created
  });

  it('recreates a preempted spot node and runs only the shards without a marker', async () => {
    const root = project(ON_POD, DEVICE(', spot: true'));
    // At the third marker the first attempt's hosts freeze (their next marker is held), then the node is
    // preempted: exactly three shards finished on it.
    cloud.gcs.onWrite = (_bucket, name) => {
      if (name.includes('/markers/') && markerWrites().length === 3 && cloud.tpu.events.every((e) => !e.startsWith('preempt'))) {
        cloud.gcs.holdWrites(firstAttemptMarkers);
        cloud.tpu.preempt([...cloud.tpu.nodes.values()][0]!.name.split('/').pop()!);
      }
    };
    const run = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // Preemption sets the node PREEMPTED and its queued resource SUSPENDED at once; the executor reads the two
    // with separate requests, so it may see either first.
    expect(run.stdout).toMatch(/strand-[0-9a-f]{12}-1 was (PREEMPTED|SUSPENDED) with 7 of \d+ shards to do; recreating it/);
    expect(cloud.tpu.events.filter((e) => e.startsWith('create'))).toHaveLength(2);
    expect(cloud.tpu.events.filter((e) => e.startsWith('preempt'))).toHaveLength(1);
    expect(cloud.tpu.nodes.size + cloud.tpu.queued.size).toBe(0);
    // the second attempt ran exactly the shards the first left without a marker: nothing lost, nothing twice
    expect(expectSecondAttemptRanTheRest(bucket, 10)).toHaveLength(3);
    expect(readFileSync(join(root, 'out/vectors.parquet')).equals(localVectors())).toBe(true);
  });

  it('resumes after the engine is killed: the node it left is deleted, finished shards are not run again', async () => {
    const root = project(ON_POD);
    const engine = startCli(['run', 'flow.yaml', '--plain'], root, cloud.env());
    // At the second marker the engine is killed and the hosts it leaves freeze (their next marker is held):
    // exactly two shards finished on the first node.
    cloud.gcs.onWrite = (_bucket, name) => {
      if (name.includes('/markers/') && markerWrites().length === 2) {
        cloud.gcs.holdWrites(firstAttemptMarkers);
        engine.kill('SIGKILL');
      }
    };
    expect(await exited(engine)).toBe(null);
    const left = [...cloud.tpu.nodes.keys()].map((n) => n.split('/').pop());
    expect(left).toHaveLength(1);
    const resumed = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toContain(`deleting TPU ${left[0]}, left by an earlier run`);
    expect(cloud.tpu.nodes.size).toBe(0);
    expect(expectSecondAttemptRanTheRest(bucket, 10)).toHaveLength(2);
    expect(readFileSync(join(root, 'out/vectors.parquet')).equals(localVectors())).toBe(true);
  });

  it('keeps a node with keep: true, and lists and deletes it with strand tpu', async () => {
    const root = project(ON_POD, DEVICE(', keep: true'));
    expect((await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env())).status).toBe(0);
    const list = await runCliAsync(['tpu', 'list', 'flow.yaml'], root, cloud.env());
    expect(list.stdout).toMatch(/^strand-[0-9a-f]{12}-1 {2}READY {2}v4-16 {2}2 hosts {2}tpu-embed\.embed {2}test-project\/us-central2-b/m);
    const node = list.stdout.split(' ')[0]!;
    expect(JSON.parse((await runCliAsync(['tpu', 'status', 'flow.yaml', node, '--json'], root, cloud.env())).stdout)[0]).toMatchObject({
      id: node,
      state: 'READY',
      workers: 2,
    });
    expect((await runCliAsync(['tpu', 'delete', 'flow.yaml', node], root, cloud.env())).stdout).toBe(
      `deleted ${node} (test-project/us-central2-b)\n`,
    );
    expect(cloud.tpu.nodes.size).toBe(0);
    expect((await runCliAsync(['tpu', 'status', 'flow.yaml', node], root, cloud.env())).stderr).toContain(
      `error: no node "${node}" created by Strand`,
    );
  });

  it('stops before creating anything when the bucket is missing or quota is exhausted', async () => {
    const noBucket = project(ON_POD, DEVICE().replace('gs://strand-test/strand', 'gs://no-such-bucket/x'));
    const missing = await runCliAsync(['run', 'flow.yaml', '--plain'], noBucket, cloud.env());
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('bucket no-such-bucket (device pod) does not exist or is not readable');
    cloud.tpu.inject({
      method: 'POST',
      pathIncludes: '/nodes',
      status: 429,
      grpcStatus: 'RESOURCE_EXHAUSTED',
      message: 'Quota TPUV4PodPerProjectPerZoneForTPUAPI exhausted',
    });
    const quota = await runCliAsync(['run', 'flow.yaml', '--plain'], project(ON_POD), cloud.env());
    expect(quota.status).toBe(1);
    expect(quota.stdout).toContain('quota or capacity exhausted in us-central2-b');
    expect(cloud.tpu.nodes.size).toBe(0);
    const incomplete = await runCliAsync(['run', 'flow.yaml'], project(ON_POD, '{ kind: tpu, type: v4-16 }'), cloud.env());
    expect(incomplete.stderr).toContain('error: device "pod" needs project:, zone:, bucket: to run embed on Cloud TPU');
  });

  describe('a gs:// model param', () => {
    const MODEL = 'models/tiny-nt.onnx';
    const bytes = (): Buffer => readFileSync(join(REPO, MODEL));
    const putModel = (content: Buffer) => cloud.gcs.put(TEST_BUCKET, MODEL, content, 'application/octet-stream', {}, null);
    const modelReads = () =>
      cloud.gcs.log.filter((r) => r.method === 'GET' && decodeURIComponent(r.path).endsWith(`/o/${MODEL}`) && r.bytes !== undefined);

    it('is read by the hosts from its bucket, never staged by the engine, and gives the vectors of a local model', async () => {
      putModel(bytes());
      const root = project(ON_POD, DEVICE(), `gs://${TEST_BUCKET}/${MODEL}`);
      const run = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
      expect(run.status).toBe(0);
      // No warning: embed/onnx computes on the hosts' CPUs, so no chip estimate needs the model's facts.
      expect(run.stderr).toBe('');
      // Nothing the engine (or anyone) wrote holds the model's bytes: it stays where the workflow keeps it.
      const stored = cloud.gcs.buckets.get(TEST_BUCKET)!;
      expect(cloud.gcs.writes).not.toContain(`strand/objects/${sha256(bytes())}`);
      expect([...stored].filter(([, o]) => o.bytes.equals(bytes())).map(([name]) => name)).toEqual([MODEL]);
      // Each of the 2 hosts read it whole, at the planned generation.
      expect(modelReads().reduce((n, r) => n + r.bytes!, 0)).toBe(2 * bytes().length);
      const [job] = jobSpecs();
      expect(job!.files).toEqual([
        {
          path: `gs://${TEST_BUCKET}/${MODEL}`,
          gcs: expect.objectContaining({
            bucket: TEST_BUCKET,
            name: MODEL,
            size: bytes().length,
            md5: expect.any(String),
            crc32c: expect.any(String),
          }),
        },
      ]);
      expect(readFileSync(join(root, 'out/vectors.parquet')).equals(localVectors())).toBe(true);
    });

    it('stops the step, naming the object, when it changes between the plan and the hosts reading it', async () => {
      putModel(bytes());
      // The new version lands as the engine writes the job spec, before any host can read the model.
      cloud.gcs.onWrite = (_bucket, name) => {
        if (name.includes('/attempts/') && cloud.gcs.writes.filter((n) => n === MODEL).length === 1)
          putModel(Buffer.concat([bytes(), Buffer.from('changed')]));
      };
      const root = project(ON_POD, DEVICE(), `gs://${TEST_BUCKET}/${MODEL}`);
      const run = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(
        new RegExp(
          `FAILED +embed: worker \\d on strand-[0-9a-f]{12}-1 failed: gs://${TEST_BUCKET}/${MODEL} changed after the plan: generation \\d+ was planned, \\d+ is there now`,
        ),
      );
      expect(markerWrites()).toEqual([]);
      expect(cloud.tpu.nodes.size).toBe(0);
    });

    it('is refused, at its line, for a step that runs on this machine', async () => {
      putModel(bytes());
      const root = project('', DEVICE(), `gs://${TEST_BUCKET}/${MODEL}`);
      const run = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`flow.yaml:8:`);
      expect(run.stderr).toContain(
        `error: step "embed": model: gs://${TEST_BUCKET}/${MODEL} is read by the hosts of a remote device, and this step runs on this machine`,
      );
    });
  });
});
