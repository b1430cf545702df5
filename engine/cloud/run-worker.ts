// Owns what one host of a remote device does (`strand worker`, started by the node's startup script): read
// its attempt's job spec, fetch the step's files (staged ones from the device's bucket; gs:// ones from
// their own bucket, at the planned generation), run the step's plugin over its share of the shards with
// inputs read from and outputs written to Cloud Storage, write a marker per finished shard, then a report.
// A shard counts as done only once its marker exists, and a marker is written only after its object.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StepError } from '../plugin-api/step-error.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import type { EmitRunEvent } from '../events/run-event.js';
import { createDataAccess } from '../data/data-access.js';
import { createStepContext, type StepIo } from '../run/step-context.js';
import { hashFile } from '../store/file-digests.js';
import { sha256, type Sha256Hex } from '../util/sha256.js';
import { GcsBucket } from './gcs-bucket.js';
import { objectUri, parseGcsUri } from './gcs-uri.js';
import { GcsObjects } from './gcs-objects.js';
import { layout, shardsOf, WORKER_ENV, type JobFile, type JobSpec, type ShardMarker, type WorkerReport } from './worker-contract.js';

export interface WorkerOptions {
  env: Record<string, string | undefined>;
  plugins: readonly StepPlugin[];
  /** A scratch folder for this worker's staged files. */
  workdir: string;
  storageEndpoint?: string;
  emit: EmitRunEvent;
  signal: AbortSignal;
  /** How often to look for the job spec before it exists (the engine writes it once the node is READY). */
  pollMs: number;
  /** Give up waiting for the job spec after this long. */
  waitLimitMs: number;
}

async function readVerified(bucket: GcsBucket, digest: Sha256Hex): Promise<Buffer> {
  const bytes = await bucket.get(layout.object(digest));
  if (bytes === undefined) throw new Error(`staged object ${digest} is missing from ${bucket.uri}`);
  if (sha256(bytes) !== digest) throw new Error(`staged object ${digest} in ${bucket.uri} does not match its digest`);
  return bytes;
}

/**
 * A file of the job on this host: a staged one from objects/ (SHA-256 checked), or a gs:// one read from its
 * own bucket at the planned generation (checksum checked). Kept under `dir` by what identifies it.
 */
async function fetchFile(file: JobFile, dir: string, bucket: GcsBucket, objects: GcsObjects): Promise<{ path: string; digest: Sha256Hex }> {
  if ('object' in file) {
    const path = join(dir, file.object);
    if (!existsSync(path)) {
      await bucket.downloadFile(layout.object(file.object), `${path}.part`);
      if (hashFile(`${path}.part`) !== file.object)
        throw new Error(`staged file ${file.path} (${file.object}) in ${bucket.uri} does not match its digest`);
      renameSync(`${path}.part`, path);
    }
    return { path, digest: file.object };
  }
  const path = join(dir, sha256(`${objectUri(file.gcs)}#${file.gcs.generation}`));
  if (existsSync(path)) return { path, digest: hashFile(path) };
  const digest = await objects.download(file.gcs, `${path}.part`);
  renameSync(`${path}.part`, path);
  return { path, digest };
}

async function waitForJob(options: WorkerOptions, jobUri: string): Promise<JobSpec> {
  const at = parseGcsUri(jobUri);
  if (at === undefined) throw new Error(`${WORKER_ENV.job} is not a gs:// URI: "${jobUri}"`);
  const bucket = new GcsBucket(
    { bucket: at.bucket, prefix: '' },
    { projectId: '', ...(options.storageEndpoint ? { apiEndpoint: options.storageEndpoint } : {}) },
  );
  for (let waited = 0; ; waited += options.pollMs) {
    const job = await bucket.getJson<JobSpec>(at.prefix);
    if (job !== undefined) return job;
    if (waited >= options.waitLimitMs) throw new Error(`no job spec at ${jobUri} after ${Math.round(waited / 1000)} s`);
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
}

/** Runs this host's shards; resolves with the report it wrote. */
export async function runWorker(options: WorkerOptions): Promise<WorkerReport> {
  const jobUri = options.env[WORKER_ENV.job];
  const index = Number(options.env[WORKER_ENV.index]);
  const job = await waitForJob(options, jobUri ?? '');
  const root = parseGcsUri(job.root)!;
  const bucket = new GcsBucket(root, {
    projectId: job.projectId,
    ...(options.storageEndpoint ? { apiEndpoint: options.storageEndpoint } : {}),
  });
  const report = async (
    status: WorkerReport['status'],
    meta: WorkerReport['meta'],
    produced: number,
    message?: string,
  ): Promise<WorkerReport> => {
    const value: WorkerReport = {
      attempt: job.attempt,
      worker: index,
      status,
      meta,
      produced,
      ...(message !== undefined ? { message } : {}),
    };
    await bucket.putJsonIfAbsent(layout.report(job.key, job.attempt, index), value);
    return value;
  };

  let produced = 0;
  try {
    const plugin = options.plugins.find((p) => p.id === job.step.uses);
    if (plugin === undefined)
      throw new StepError(
        `this worker has no step plugin "${job.step.uses}"`,
        'install the Strand version the engine runs on the worker image',
      );
    if (plugin.version !== job.step.version)
      throw new StepError(
        `this worker has ${plugin.id} version ${plugin.version}, the job needs version ${job.step.version}`,
        'run the same Strand version on the engine and the workers',
      );

    const local = new Map<string, { path: string; digest: Sha256Hex }>();
    mkdirSync(join(options.workdir, 'files'), { recursive: true });
    const objects = new GcsObjects({
      ...(options.storageEndpoint ? { storageEndpoint: options.storageEndpoint } : {}),
      authenticate: options.storageEndpoint === undefined,
    });
    for (const file of job.files) local.set(file.path, await fetchFile(file, join(options.workdir, 'files'), bucket, objects));
    const mine = new Set(shardsOf(job.shards, index, job.workers));
    const done = new Set(await bucket.list(layout.markers(job.key)));
    const unitShard = (unit: string): { port: string; index: number } => {
      const m = /^output:([^:]+):(\d+)$/.exec(unit);
      if (m === null)
        throw new StepError(
          `${plugin.id} uses "${unit.split(':')[0]}" units, which run on the local machine only`,
          'place this step on the local CPU',
        );
      return { port: m[1]!, index: Number(m[2]) };
    };
    const io: StepIo = {
      unitStatus: (unit) => {
        const shard = unitShard(unit);
        if (!mine.has(shard.index)) return 'elsewhere';
        return done.has(layout.marker(job.key, shard.port, shard.index)) ? 'done' : 'todo';
      },
      completeUnit: async (unit, result) => {
        const shard = unitShard(unit);
        const marker: ShardMarker = {
          port: shard.port,
          index: shard.index,
          object: result.digest!,
          rows: result.rows ?? 0,
          attempt: job.attempt,
          worker: index,
        };
        // 'exists' means another worker finished this shard first: its marker stands, nothing is duplicated.
        await bucket.putJsonIfAbsent(layout.marker(job.key, shard.port, shard.index), marker);
        produced++;
      },
      manifest: (port) => job.inputs[port],
      readObject: (digest) => readVerified(bucket, digest),
      writeObject: async (bytes) => {
        const digest = sha256(bytes);
        await bucket.putIfAbsent(layout.object(digest), bytes);
        return digest;
      },
      saveState: () => {
        throw new StepError(`${plugin.id} saves training state, which runs on the local machine only`, 'place this step on the local CPU');
      },
      loadState: () => undefined,
    };
    const params = job.step.params;
    if (params === undefined)
      throw new StepError(`the job spec of ${job.step.id} carries a JAX job, which the JAX worker runs (python -m strand_jax worker)`);
    const step = { id: job.step.id, plugin, params };
    const handle = createStepContext({
      step,
      io,
      signal: options.signal,
      workdir: options.workdir,
      resolvePath: (path) => local.get(path)?.path ?? resolve(options.workdir, path),
      workers: undefined, // the job declares no local workers: a step chooses, as on the engine's own CPU
      // Remote steps are shard-parallel transforms of store artifacts; their files are staged (resolvePath).
      data: createDataAccess(options.workdir, undefined),
      fileDigest: (path) => [...local.values()].find((f) => f.path === path)?.digest,
      emit: options.emit,
      now: () => new Date(),
    });
    try {
      await plugin.run(handle.context);
    } catch (error) {
      await handle.finish().catch(() => undefined); // shards produced before the failure still count
      throw error;
    }
    await handle.finish();
    return await report('ok', Object.fromEntries(handle.meta), produced);
  } catch (error) {
    const message = error instanceof StepError && error.hint ? `${error.message} (${error.hint})` : (error as Error).message;
    return await report('failed', {}, produced, message);
  }
}
