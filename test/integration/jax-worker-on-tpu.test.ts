// A JAX step (`embed/nt`) on a Cloud TPU slice, against the local GCS and TPU servers: the engine's remote
// executor (runRemoteStep) stages the model folder, the token shards and the runtime bundle by content and
// creates a node whose startup script — the one a stock TPU VM gets — fetches the bundle and runs
// `python -m strand_jax worker` on every host (JAX CPU devices standing in for TPU cores: 4 per host of a
// v4-16). The vectors collected are compared byte for byte with `python -m strand_jax embed` run locally on
// 8 devices with the same mesh. The step is the built-in `embed/nt`; its run() is never called here: the
// hosts run the Python program. Nothing here reaches Google Cloud.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GcsObjects } from '../../engine/cloud/gcs-objects.js';
import { cloudServices } from '../../engine/cloud/remote-services.js';
import { ObjectSnapshot } from '../../engine/data/object-snapshot.js';
import { UV_VERSION } from '../../engine/cloud/jax-startup-script.js';
import type { RemoteTarget } from '../../engine/cloud/remote-target.js';
import { runRemoteStep } from '../../engine/cloud/run-remote-step.js';
import { deviceBucket, expectSecondAttemptRanTheRest } from '../helpers/device-bucket.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import type { ArtifactManifest, StepRecord } from '../../engine/plan/step-record.js';
import { CheckpointLog } from '../../engine/store/checkpoint-log.js';
import { ObjectStore } from '../../engine/store/object-store.js';
import { sha256, type Sha256Hex } from '../../engine/util/sha256.js';
import type { StepSpec } from '../../engine/workflow/workflow.js';
import { TEST_BUCKET, useLocalCloud } from '../helpers/local-cloud.js';
import { JAX_RUNTIME, jaxPython } from '../helpers/jax-runtime.js';
import { ntEmbed } from '../../steps/embed/nt.js';
import { copyFromRepo, REPO, removeProjects, runCli, waitFor, writeProject } from '../helpers/project.js';

const MESH = { data: 2, fsdp: 2, tp: 2 };
const PER_DEVICE = 4;
let python: string;

beforeAll(() => {
  python = jaxPython();
});
const cloud = useLocalCloud(() => ({ STRAND_RUNTIME_PYTHON: python }));
afterEach(removeProjects);

/** A project whose tokenize step has run locally: the tokens artifact in its store, and the model folder. */
function tokenizedProject(): { root: string; objects: ObjectStore; tokens: Sha256Hex } {
  const root = writeProject({
    'flow.yaml': `version: 1
name: tpu-jax
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 125 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
`,
  });
  copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt');
  expect(runCli(['run', 'flow.yaml', '--plain'], root).status).toBe(0);
  const steps = join(root, '.strand/steps');
  const record = readdirSync(steps)
    .map((n) => JSON.parse(readFileSync(join(steps, n), 'utf8')) as StepRecord)
    .find((r) => r.step === 'tokens')!;
  return { root, objects: new ObjectStore(join(root, '.strand/objects')), tokens: record.outputs.tokens! };
}

function target(spot: boolean): RemoteTarget {
  return {
    name: 'pod',
    label: 'tpu v4-16',
    acceleratorType: 'v4-16',
    project: 'test-project',
    zone: 'us-central2-b',
    bucket: 'gs://strand-test/strand',
    spot,
    keep: false,
    runtimeVersion: 'tpu-ubuntu2204-base',
    workerCommand: 'strand',
    worker: 'jax',
    hosts: 2,
    chipsPerHost: 4,
    maxAttempts: 3,
    stallMinutes: 5,
    placement: {
      device: 'tpu v4-16',
      mesh: MESH,
      perDeviceBatch: PER_DEVICE,
      globalBatch: PER_DEVICE * MESH.data * MESH.fsdp,
      precision: 'fp32',
    },
  };
}

/** `model` may be a gs:// folder: it is listed first, as loading lists it, and the hosts read it there. */
async function runOnSlice(project: ReturnType<typeof tokenizedProject>, spot: boolean, model = 'models/tiny-nt') {
  const step: StepSpec = {
    id: 'embed',
    uses: 'embed/nt',
    plugin: ntEmbed,
    needs: ['tokens'],
    with: { model },
    params: { model },
    keyParams: { model },
    inputs: { tokens: { step: 'tokens', port: 'tokens' } },
    placement: { on: 'pod' },
  };
  const listing = model.startsWith('gs://') ? new ObjectSnapshot(new GcsObjects(cloud.settings())) : undefined;
  await listing?.refresh([model]);
  const key = sha256(`embed-nt-${project.tokens}`);
  const checkpoints = new CheckpointLog(join(project.root, '.strand/checkpoints'), key);
  const events: RunEvent[] = [];
  const remote = target(spot);
  const result = runRemoteStep({
    step,
    key,
    workflowName: 'tpu-jax',
    target: remote,
    inputs: { tokens: project.tokens },
    objects: project.objects,
    checkpoints,
    workdir: project.root,
    listing,
    services: cloudServices(remote, cloud.settings(), () => new Date()),
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
  });
  const manifest = project.objects.getJson<ArtifactManifest>(project.tokens);
  const collected = () => manifest.shards.map((s) => checkpoints.entries.get(`output:embeddings:${s.index}`)?.digest);
  return { result, events, collected };
}

/** The oracle: the same program in one local process on 8 CPU devices, mesh 2x2x2, the same batch and last bucket. */
function localVectorDigests(project: ReturnType<typeof tokenizedProject>): Sha256Hex[] {
  const manifest = project.objects.getJson<ArtifactManifest>(project.tokens);
  const dir = join(project.root, 'local-tokens');
  mkdirSync(dir, { recursive: true });
  const shards = manifest.shards.map((s) => {
    const path = join(dir, `${String(s.index).padStart(6, '0')}.arrow`);
    writeFileSync(path, project.objects.get(s.digest));
    return path;
  });
  const out = join(project.root, 'local-vectors');
  const mesh = `${MESH.data},${MESH.fsdp},${MESH.tp}`;
  const run = spawnSync(
    python,
    [
      '-m',
      'strand_jax',
      'embed',
      '--model',
      join(project.root, 'models/tiny-nt'),
      '--tokens',
      ...shards,
      '--out',
      out,
      '--mesh',
      mesh,
      '--per-device-batch',
      String(PER_DEVICE),
      '--host-devices',
      '8',
      '--max-length',
      String(manifest.meta.max_tokens),
    ],
    { encoding: 'utf8', env: { ...process.env, JAX_PLATFORMS: 'cpu', XLA_FLAGS: '' } },
  );
  expect(run.stderr).not.toMatch(/^error:/m);
  expect(run.status).toBe(0);
  return shards.map((p) => sha256(readFileSync(join(out, p.split('/').pop()!))));
}

const bucket = deviceBucket(cloud);
const { markerWrites, markers, jobSpecs } = bucket;

it('installs the uv release the runtime is developed with', () => {
  expect(readFileSync(join(JAX_RUNTIME, 'find-uv.sh'), 'utf8')).toContain(`UV_VERSION=${UV_VERSION}\n`);
});

describe('a JAX step on a Cloud TPU slice (local servers, the Python worker on every host)', () => {
  it('runs embed/nt on both hosts and collects vectors byte-identical to a local run with the same mesh', async () => {
    const project = tokenizedProject();
    const run = await runOnSlice(project, false);
    const result = await run.result;
    expect(bucket.reports().map((r) => [r.worker, r.status, r.produced])).toEqual([
      [0, 'ok', 4],
      [1, 'ok', 4],
    ]);
    // The hosts ran the strand_jax staged in the bucket (a host still exiting when the node is deleted is killed).
    await waitFor(() => cloud.tpu.hostExits.length === 2, 'both hosts to exit');
    for (const host of cloud.tpu.hostExits) expect(host.output).toMatch(/strand: running the staged strand_jax \(manifest [0-9a-f]{64}\)/);
    expect(cloud.tpu.events).toEqual([
      expect.stringMatching(/^create strand-/),
      expect.stringMatching(/^ready /),
      expect.stringMatching(/^delete /),
    ]);
    expect(jobSpecs()).toMatchObject([
      {
        attempt: 1,
        workers: 2,
        step: { uses: 'embed/nt' },
        files: [{ path: 'models/tiny-nt/config.json' }, { path: 'models/tiny-nt/model.safetensors' }],
      },
    ]);
    expect(new Set(markerWrites()).size).toBe(8);
    expect(markerWrites()).toHaveLength(8);
    expect(new Set(markers().map((m) => m.worker))).toEqual(new Set([0, 1]));
    expect(result.meta.get('embeddings')).toMatchObject({ kind: 'jax', dim: 64, precision: 'fp32', pooling: 'mean' });
    expect(run.collected()).toEqual(localVectorDigests(project));
  }, 600_000);

  it('recreates a preempted spot node and runs only the shards without a marker, on the Python worker', async () => {
    const project = tokenizedProject();
    let preempted = 0;
    cloud.gcs.onWrite = (_bucket, name) => {
      if (name.includes('/markers/') && markerWrites().length === 2 && preempted++ === 0)
        cloud.tpu.preempt([...cloud.tpu.nodes.values()][0]!.name.split('/').pop()!);
    };
    const { result, events, collected } = await runOnSlice(project, true);
    await result;
    expect(
      events.some((e) => e.kind === 'step-log' && /was (PREEMPTED|SUSPENDED) with \d+ of 8 shards to do; recreating it/.test(e.message)),
    ).toBe(true);
    expect(cloud.tpu.events.filter((e) => e.startsWith('create'))).toHaveLength(2);
    expect(cloud.tpu.nodes.size + cloud.tpu.queued.size).toBe(0);
    expect(expectSecondAttemptRanTheRest(bucket, 8).length).toBeGreaterThanOrEqual(2);
    expect(collected()).toEqual(localVectorDigests(project));
  }, 600_000);

  describe('with the model folder on Cloud Storage', () => {
    const FOLDER = 'models/tiny-nt';
    const files = ['config.json', 'model.safetensors', 'model.onnx'];
    const bytesOf = (name: string): Buffer => readFileSync(join(REPO, FOLDER, name));
    const put = (name: string, bytes: Buffer) =>
      cloud.gcs.put(TEST_BUCKET, `${FOLDER}/${name}`, bytes, 'application/octet-stream', {}, null);

    it('reads config.json and the weights on the hosts, stages none of it, and embeds as from a local folder', async () => {
      for (const name of files) put(name, bytesOf(name));
      const project = tokenizedProject();
      const run = await runOnSlice(project, false, `gs://${TEST_BUCKET}/${FOLDER}`);
      const result = await run.result;
      expect(result.meta.get('embeddings')).toMatchObject({ kind: 'jax', dim: 64 });
      expect(jobSpecs()[0]!.files).toEqual([
        {
          path: `gs://${TEST_BUCKET}/${FOLDER}/config.json`,
          gcs: expect.objectContaining({ name: `${FOLDER}/config.json`, md5: expect.any(String) }),
        },
        {
          path: `gs://${TEST_BUCKET}/${FOLDER}/model.safetensors`,
          gcs: expect.objectContaining({ name: `${FOLDER}/model.safetensors`, md5: expect.any(String) }),
        },
      ]);
      // The engine staged no byte of the model: no object other than the originals holds a model file.
      const stored = [...cloud.gcs.buckets.get(TEST_BUCKET)!];
      for (const name of files)
        expect(stored.filter(([, o]) => o.bytes.equals(bytesOf(name))).map(([n]) => n)).toEqual([`${FOLDER}/${name}`]);
      // Both hosts read the weights whole from the folder (and config.json); model.onnx is not for JAX.
      const reads = (name: string) =>
        cloud.gcs.log
          .filter((r) => r.method === 'GET' && decodeURIComponent(r.path).endsWith(`/o/${FOLDER}/${name}`) && r.bytes !== undefined)
          .reduce((n, r) => n + r.bytes!, 0);
      expect(reads('model.safetensors')).toBe(2 * bytesOf('model.safetensors').length);
      expect(reads('model.onnx')).toBe(0);
      expect(run.collected()).toEqual(localVectorDigests(project));
    }, 600_000);

    it('stops the step, naming the object, when a model file changes between the plan and the hosts reading it', async () => {
      for (const name of files) put(name, bytesOf(name));
      const project = tokenizedProject();
      // The new version lands as the engine writes the job spec, before any host can read the folder.
      let changed = false;
      cloud.gcs.onWrite = (_bucket, name) => {
        if (name.includes('/attempts/') && !changed) {
          changed = true;
          put('model.safetensors', Buffer.concat([bytesOf('model.safetensors'), Buffer.from('x')]));
        }
      };
      const run = await runOnSlice(project, false, `gs://${TEST_BUCKET}/${FOLDER}`);
      await expect(run.result).rejects.toThrow(
        new RegExp(
          `^worker \\d on strand-[0-9a-f]{12}-1 failed: gs://${TEST_BUCKET}/${FOLDER}/model.safetensors changed after the plan: generation \\d+ was planned, \\d+ is there now$`,
        ),
      );
      expect(markerWrites()).toEqual([]);
      expect(cloud.tpu.nodes.size).toBe(0);
    }, 600_000);
  });
});
