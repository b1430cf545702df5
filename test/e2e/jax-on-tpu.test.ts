// embed/nt on a Cloud TPU slice from a workflow file, through the built CLI, against the local GCS and TPU
// servers (test/emulators): loading fills the step's params with their defaults and resolves its placement,
// the engine builds the one JAX job from them, stages the model folder, the token shards and the runtime
// bundle by content, and creates a v4-16 node whose startup script — the one a stock TPU VM gets — runs
// `python -m strand_jax worker` on both hosts (4 XLA CPU devices each stand in for a host's chips). The
// vectors are compared byte for byte with the same workflow placed on `{ kind: cpu, runtime: jax,
// devices: 8 }` (one local process, the same job but its paths). Nothing here reaches Google Cloud.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UV_VERSION } from '../../engine/cloud/jax-startup-script.js';
import type { ArtifactManifest, StepRecord } from '../../engine/plan/step-record.js';
import { ObjectStore } from '../../engine/store/object-store.js';
import { deviceBucket, expectSecondAttemptRanTheRest } from '../helpers/device-bucket.js';
import { goldenJob } from '../helpers/golden-jobs.js';
import { JAX_RUNTIME } from '../helpers/jax-runtime.js';
import { TEST_BUCKET, useLocalCloud } from '../helpers/local-cloud.js';
import { copyFromRepo, REPO, removeProjects, runCliAsync, writeProject } from '../helpers/project.js';

const cloud = useLocalCloud({ jaxHosts: true });
afterEach(removeProjects);

/** The workflow a user writes (issue 23), placed `on:` the slice or this machine's 8 XLA host devices. */
const FLOW = (on: 'pod' | 'host', model = 'models/tiny-nt', spot = false) => `version: 1
name: tpu-jax
devices:
  pod: { kind: tpu, type: v4-16, project: test-project, zone: us-central2-b, bucket: gs://strand-test/strand, spot: ${spot} }
  host: { kind: cpu, runtime: jax, devices: 8 }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 125 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed:
    uses: embed/nt
    needs: [tokens]
    with: { model: ${model}, pooling: mean }
    on: ${on}
    mesh: { data: 2, fsdp: 2, tp: 2 }
    batch: { per_device: 4 }
    precision: fp32
  vectors: { uses: export/parquet, needs: [embed, source], with: { path: out/v.parquet } }
`;

function project(on: 'pod' | 'host', model?: string, spot?: boolean): string {
  const root = writeProject({ 'flow.yaml': FLOW(on, model, spot) });
  copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt');
  return root;
}

const bucket = deviceBucket(cloud);
const { markerWrites, jobSpecs, reports } = bucket;

/** Runs the workflow to success; its stderr is empty, or for a gs:// model the one warning that its facts are unknown. */
async function run(root: string, gcsModel = false) {
  const result = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
  if (gcsModel)
    expect(result.stderr).toMatch(
      /^flow\.yaml:12:\d+: warning: .*only the hosts read.*\[model-facts-unknown\]\n[^]*\n0 errors?, 1 warning\n$/,
    );
  else expect(result.stderr).toBe('');
  expect(result.status, result.stdout).toBe(0);
  return result;
}

/** The oracle: the same workflow on this machine's 8 XLA CPU devices, one process, the same mesh and batch; its
 * vectors and their meta, run once for every test of the file. */
let oracle: Promise<{ vectors: Buffer; meta: Record<string, unknown> }> | undefined;
function localOracle(): Promise<{ vectors: Buffer; meta: Record<string, unknown> }> {
  oracle ??= (async () => {
    const root = project('host');
    await run(root);
    return { vectors: readFileSync(join(root, 'out/v.parquet')), meta: outputMeta(root, 'embed', 'embeddings') };
  })();
  return oracle;
}

/** The meta recorded with a step's output, as downstream steps and `strand search` read it. */
function outputMeta(root: string, step: string, port: string): Record<string, unknown> {
  const steps = join(root, '.strand/steps');
  const record = readdirSync(steps)
    .map((n) => JSON.parse(readFileSync(join(steps, n), 'utf8')) as StepRecord)
    .find((r) => r.step === step)!;
  return new ObjectStore(join(root, '.strand/objects')).getJson<ArtifactManifest>(record.outputs[port]!).meta;
}

it('installs the uv release the runtime is developed with', () => {
  expect(readFileSync(join(JAX_RUNTIME, 'find-uv.sh'), 'utf8')).toContain(`UV_VERSION=${UV_VERSION}\n`);
});

describe('embed/nt on a 2-host TPU slice, from a workflow file (local servers, the Python worker on every host)', () => {
  it('runs the one job on both hosts and gives the vectors of the same workflow on 8 local devices', async () => {
    const root = project('pod');
    const result = await run(root);
    expect(result.stdout).toMatch(/strand-[0-9a-f]{12}-1 is READY with 2 hosts/);
    // The hosts claim shards as they free up: which host takes which is a race, that every shard is taken once is not.
    expect(reports().map((r) => [r.worker, r.status])).toEqual([
      [0, 'ok'],
      [1, 'ok'],
    ]);
    expect(reports().reduce((n, r) => n + r.produced, 0)).toBe(8);
    for (const host of cloud.tpu.hostExits) expect(host.output).toMatch(/strand: running the staged strand_jax \(manifest [0-9a-f]{64}\)/);
    // The job spec carries the job — only what changes the numbers, and the resolved placement — never
    // the step's params (loading filled batch_size, bucket, threads... into them).
    const [spec] = jobSpecs();
    expect(spec!.step).toEqual({ id: 'embed', uses: 'embed/nt', version: '1' });
    // The job the engine builds from this workflow file is the committed golden job the Python tests run.
    expect(spec!.job).toEqual(goldenJob('embed-job.json'));
    expect(spec!.files.map((f) => f.path)).toEqual(['models/tiny-nt/config.json', 'models/tiny-nt/model.safetensors']);
    expect(new Set(markerWrites()).size).toBe(8);
    expect(markerWrites()).toHaveLength(8);
    expect(cloud.tpu.nodes.size + cloud.tpu.queued.size).toBe(0);
    const local = await localOracle();
    expect(readFileSync(join(root, 'out/v.parquet')).equals(local.vectors)).toBe(true);
    // The same numbers, the same record: the embeddings meta does not depend on where the job ran.
    expect(outputMeta(root, 'embed', 'embeddings')).toEqual(local.meta);
    expect(outputMeta(root, 'embed', 'embeddings')).toMatchObject({
      kind: 'nt-jax',
      runtime: 'jax',
      precision: 'fp32',
      dim: 64,
      model: 'models/tiny-nt',
    });
  }, 900_000);

  it('recreates a preempted spot node and runs only the shards without a marker', async () => {
    const root = project('pod', undefined, true);
    let preempted = 0;
    cloud.gcs.onWrite = (_bucket, name) => {
      if (name.includes('/markers/') && markerWrites().length === 2 && preempted++ === 0)
        cloud.tpu.preempt([...cloud.tpu.nodes.values()][0]!.name.split('/').pop()!);
    };
    const result = await run(root);
    expect(result.stdout).toMatch(/was (PREEMPTED|SUSPENDED) with \d+ of 8 shards to do; recreating it/);
    expect(cloud.tpu.events.filter((e) => e.startsWith('create'))).toHaveLength(2);
    expect(cloud.tpu.nodes.size + cloud.tpu.queued.size).toBe(0);
    expect(expectSecondAttemptRanTheRest(bucket, 8).length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(root, 'out/v.parquet')).equals((await localOracle()).vectors)).toBe(true);
  }, 900_000);

  describe('with the model folder on Cloud Storage', () => {
    const FOLDER = 'models/tiny-nt';
    const files = ['config.json', 'model.safetensors', 'model.onnx'];
    const bytesOf = (name: string): Buffer => readFileSync(join(REPO, FOLDER, name));
    const put = (name: string, bytes: Buffer) =>
      cloud.gcs.put(TEST_BUCKET, `${FOLDER}/${name}`, bytes, 'application/octet-stream', {}, null);

    it('is read by the hosts from its bucket, never staged, and gives the vectors of the local folder', async () => {
      for (const name of files) put(name, bytesOf(name));
      const root = project('pod', `gs://${TEST_BUCKET}/${FOLDER}`);
      await run(root, true);
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
      expect(readFileSync(join(root, 'out/v.parquet')).equals((await localOracle()).vectors)).toBe(true);
    }, 900_000);

    it('stops the step, naming the object, when a model file changes between the plan and the hosts reading it', async () => {
      for (const name of files) put(name, bytesOf(name));
      const root = project('pod', `gs://${TEST_BUCKET}/${FOLDER}`);
      // The new version lands as the engine writes the job spec, before any host can read the folder.
      let changed = false;
      cloud.gcs.onWrite = (_bucket, name) => {
        if (name.includes('/attempts/') && !changed) {
          changed = true;
          put('model.safetensors', Buffer.concat([bytesOf('model.safetensors'), Buffer.from('x')]));
        }
      };
      const result = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(
        new RegExp(
          `gs://${TEST_BUCKET}/${FOLDER}/model.safetensors changed after the plan: generation \\d+ was planned, \\d+ is there now`,
        ),
      );
      expect(markerWrites()).toEqual([]);
      expect(cloud.tpu.nodes.size).toBe(0);
    }, 900_000);
  });
});
