// The worker contract's data types (engine/cloud/worker-contract.ts) follow the one JSON Schema the Python
// JAX worker validates against too (runtime/jax/src/strand_jax/worker_contract.schema.json).
import { describe, expect, it } from 'vitest';
import type {
  CheckpointMarker,
  HostProgress,
  JobSpec,
  OutputsMarker,
  ShardClaim,
  ShardMarker,
  WorkerReport,
} from '../../engine/cloud/worker-contract.js';
import type { EmbedJob } from '../../engine/jax/jax-job.js';
import { checkRuntimeValue } from '../../engine/jax/runtime-schema.js';
import { goldenJob } from '../helpers/golden-jobs.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';

/** Whether a value is a valid `kind` of the worker contract; `.error` says where it is not. */
const validator = (kind: string) => {
  const check = (value: unknown): boolean => {
    const result = checkRuntimeValue('workerContract', kind, value);
    check.error = result.ok ? undefined : result.error;
    return result.ok;
  };
  check.error = undefined as string | undefined;
  return check;
};
const KEY = 'a'.repeat(64) as Sha256Hex;
const DIGEST = 'b'.repeat(64) as Sha256Hex;

const job: JobSpec = {
  schema: 1,
  key: KEY,
  attempt: 2,
  root: 'gs://bucket/strand',
  projectId: 'p',
  workers: 2,
  progressSeconds: 10,
  step: { id: 'embed', uses: 'embed/onnx', version: '1', params: { model: 'models/tiny-nt.onnx' } },
  files: [{ path: 'models/tiny-nt.onnx', object: DIGEST }],
  inputs: { tokens: { schema: 1, type: 'tokens', shards: [{ index: 0, digest: DIGEST, rows: 250 }], meta: { pad_id: 1 } } },
  outputs: { embeddings: 'embeddings' },
  shards: [0, 1, 2, 3],
  placement: { device: 'v5e-8', mesh: { data: 2, fsdp: 2, tp: 2 }, perDeviceBatch: 16, globalBatch: 64, precision: 'bf16' },
};

describe('worker contract schema', () => {
  it('accepts a job spec, a shard marker and a worker report as the engine types them', () => {
    const marker: ShardMarker = { port: 'embeddings', index: 3, object: DIGEST, rows: 250, attempt: 2, worker: 1 };
    const report: WorkerReport = { attempt: 2, worker: 1, status: 'failed', message: 'boom', meta: {}, produced: 0 };
    expect(validator('JobSpec')(job)).toBe(true);
    expect(validator('ShardMarker')(marker)).toBe(true);
    expect(validator('WorkerReport')(report)).toBe(true);
  });

  it('accepts a shard claim and a host progress object as the engine types them, and refuses a progress without its shard', () => {
    const claim: ShardClaim = { index: 3, attempt: 2, worker: 1 };
    const progress: HostProgress = { attempt: 2, worker: 1, running: true, shard: 3, shards: 1, rows: 130, tokens: 14000, seconds: 12.5 };
    expect(validator('ShardClaim')(claim)).toBe(true);
    expect(validator('HostProgress')(progress)).toBe(true);
    expect(validator('HostProgress')({ ...progress, shard: null, running: false })).toBe(true);
    const { shard: _shard, ...without } = progress;
    expect(validator('HostProgress')(without)).toBe(false);
  });

  it('accepts a training host’s progress object with its last train step, and refuses one whose step has no loss', () => {
    const training: HostProgress = {
      attempt: 1,
      worker: 0,
      running: true,
      shard: null,
      shards: 0,
      rows: 64,
      tokens: 9000,
      seconds: 8,
      training: { step: 4, total: 6, loss: 0.69, tokens_per_second: 1200, eta_seconds: 3.5 },
    };
    const validate = validator('HostProgress');
    expect(validate(training)).toBe(true);
    const { loss: _loss, ...noLoss } = training.training!;
    expect(validate({ ...training, training: noLoss })).toBe(false);
    expect(validate.error).toMatch(/^HostProgress at \/training: /);
  });

  it('refuses a job spec whose mesh has a zero axis', () => {
    const validate = validator('JobSpec');
    expect(validate({ ...job, placement: { ...job.placement, mesh: { data: 0, fsdp: 1, tp: 1 } } })).toBe(false);
    expect(validate.error).toMatch(/^JobSpec at \/placement\/mesh\/data: /);
  });

  it('accepts a file the hosts read from Cloud Storage by version, and refuses one without a generation number', () => {
    const validate = validator('JobSpec');
    const version = { bucket: 'models', name: 'nt/model.safetensors', generation: '1712', size: 5, crc32c: 'AAAAAA==', md5: null };
    const withObject: JobSpec = { ...job, files: [{ path: 'gs://models/nt/model.safetensors', gcs: version }] };
    expect(validate(withObject)).toBe(true);
    expect(
      validate({ ...withObject, files: [{ path: 'gs://models/nt/model.safetensors', gcs: { ...version, generation: 'latest' } }] }),
    ).toBe(false);
  });

  it('accepts a training job, its checkpoint and outputs markers, and refuses a file path that leaves the folder', () => {
    const training: JobSpec = { ...job, shards: [], inputs: {}, training: { data: DIGEST, resume: null } };
    const files = [{ path: '2/state/data', object: DIGEST, size: 5 }];
    const checkpoint: CheckpointMarker = { step: 2, total: 6, attempt: 1, worker: 0, files };
    const outputs: OutputsMarker = { attempt: 2, worker: 0, files, summary: { steps: 6 } };
    expect(validator('JobSpec')(training)).toBe(true);
    expect(validator('JobSpec')({ ...training, training: { ...training.training, resume: { step: 2, marker: 'm.json' } } })).toBe(true);
    expect(validator('CheckpointMarker')(checkpoint)).toBe(true);
    expect(validator('OutputsMarker')(outputs)).toBe(true);
    for (const path of ['../x', '2/../../x', '/abs', './x'])
      expect(validator('CheckpointMarker')({ ...checkpoint, files: [{ ...files[0], path }] }), path).toBe(false);
  });

  it("carries a JAX step's job, checked by the job's own schema, and refuses a param the job does not have", () => {
    const embed = goldenJob<EmbedJob>('embed-job.json');
    const { params: _params, ...step } = job.step;
    const withJob: JobSpec = { ...job, step: { ...step, uses: 'embed/nt' }, job: embed };
    const validate = validator('JobSpec');
    expect(validate(withJob)).toBe(true);
    // What loading fills into a step's params (batch_size, bucket) is not part of the job: refused, not ignored.
    expect(validate({ ...withJob, job: { ...embed, batch_size: 32 } })).toBe(false);
    expect(validate({ ...withJob, job: { ...embed, placement: { ...embed.placement, platform: 'tpu-v4' } } })).toBe(false);
  });
});
