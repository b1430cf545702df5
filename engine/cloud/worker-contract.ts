// Owns the worker contract between the engine and the hosts of a remote device (docs/tpu.md "Worker contract";
// its schema is runtime/jax/src/strand_jax/worker_contract.schema.json, checked before a job spec is written):
// the Cloud Storage layout under a device's bucket, the job spec of each attempt (shards, or one training
// job), the shard claims, markers and the hosts' progress objects, a training job's checkpoint and outputs
// markers, the worker reports, the environment a worker starts with, the startup script, and which shards a
// worker takes. Pure: a JAX payload for NT on TPU can implement the same contract without Strand's code.
import type { ArtifactManifest } from '../plan/step-record.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { ObjectVersion } from './gcs-objects.js';
import type { JaxJob } from '../jax/jax-job.js';

/** Environment variables every worker process starts with. */
export const WORKER_ENV = {
  /** gs:// URI of this attempt's job spec. */
  job: 'STRAND_JOB',
  /** This host's index, 0 .. workers-1 (on a TPU VM: the `agent-worker-number` metadata attribute). */
  index: 'STRAND_WORKER_INDEX',
  /** host:port of a multi-host training job's `jax.distributed` coordinator, where no slice metadata names it
   * (the local TPU server's hosts); unset on a TPU VM, where JAX reads the slice's metadata. */
  coordinator: 'STRAND_COORDINATOR',
} as const;

/** Node metadata keys the engine sets. */
export const NODE_METADATA = { job: 'strand-job', startupScript: 'startup-script' } as const;

export interface JobStep {
  id: string;
  uses: string;
  version: string;
  /** The checked `with:`, for a step `strand worker` runs; a step the JAX worker runs sends `JobSpec.job` instead. */
  params?: Record<string, unknown>;
}

export interface JobSpec {
  schema: 1;
  /** The step's cache key: the job's folder, so a rerun of the same step finds its markers. */
  key: Sha256Hex;
  attempt: number;
  /** gs:// root of the layout (objects/, jobs/). */
  root: string;
  projectId: string;
  /** Hosts of this attempt's node (the length of its networkEndpoints). */
  workers: number;
  /**
   * The least seconds between two writes of a host's progress object (HostProgress): the engine's poll
   * interval, so a host writes no more often than the engine reads (10 on Google Cloud, 0.1 locally).
   */
  progressSeconds: number;
  step: JobStep;
  /** For a step the JAX worker runs (a plugin with `jax` facts): the one JAX job (jax_job.schema.json). */
  job?: JaxJob;
  /** Files the step reads (path params), by the path written in the workflow: staged, or read from Cloud Storage by the hosts. */
  files: JobFile[];
  /** Input manifests; their shards are objects under objects/. */
  inputs: Record<string, ArtifactManifest>;
  /** Output ports and their types. */
  outputs: Record<string, string>;
  /** Shard indices this attempt runs: those without a marker when it was written (none for a training job). */
  shards: number[];
  /** Set when the step is one training job on the whole slice rather than shards. */
  training?: TrainingJob;
  placement: {
    device: string;
    mesh: { data: number; fsdp: number; tp: number };
    perDeviceBatch: number;
    globalBatch: number;
    precision: string;
  };
}

/** A training job (its TrainJob is `JobSpec.job`): from what host 0 trains, and from which complete checkpoint. */
export interface TrainingJob {
  /** The examples (Arrow IPC), staged as objects/SHA256. */
  data: Sha256Hex;
  /** The last complete checkpoint when this attempt was written, or null to start fresh. */
  resume: { step: number; marker: string } | null;
}

/** A file of a checkpoint or of the outputs: its path in the folder, its bytes as objects/SHA256. */
export interface TrainedFile {
  path: string;
  object: Sha256Hex;
  size: number;
}

/** Written at `layout.checkpoint(key, step)` only after every file of the checkpoint is durable. */
export interface CheckpointMarker {
  step: number;
  /** The run's optimizer steps in all. */
  total: number;
  attempt: number;
  worker: number;
  files: TrainedFile[];
}

/** Written at `layout.outputs(key)` once every output file is durable; `summary` is the trainer's train-summary. */
export interface OutputsMarker {
  attempt: number;
  worker: number;
  files: TrainedFile[];
  summary: Record<string, unknown>;
}

/** A file the engine staged by content (objects/SHA256 under the root). */
export interface StagedFile {
  path: string;
  object: Sha256Hex;
}

/**
 * A file the hosts read from Cloud Storage themselves (a gs:// path param): the object version the plan
 * listed. Hosts read exactly this generation and check its crc32c or md5; another generation stops the step.
 */
export interface ObjectFile {
  path: string;
  gcs: ObjectVersion;
}

export type JobFile = StagedFile | ObjectFile;

/** Written by a worker for every output shard it completed, after the shard's object is durable. */
export interface ShardMarker {
  port: string;
  index: number;
  object: Sha256Hex;
  rows: number;
  attempt: number;
  worker: number;
}

/**
 * Created, only if absent, by a host of the JAX worker before it computes a shard: the one host that creates
 * it computes the shard while its node lives, so live hosts never compute a shard twice. The engine deletes
 * the claims of a lost node's unmarked shards (its replacement or the other nodes take them), and every claim
 * when a run starts (the nodes of an earlier run are deleted first).
 */
export interface ShardClaim {
  index: number;
  attempt: number;
  worker: number;
}

/**
 * Rewritten by a host of the JAX worker at most every `JobSpec.progressSeconds` and once when it ends
 * (runtime/jax/src/strand_jax/host_progress.py): while it embeds, what it embedded since it started; while a
 * slice trains, the primary host's (worker 0) last train step in `training`. The run view's tokens/s, loss
 * and ETA; advisory: never read for the result, and one that does not follow the schema is skipped.
 */
export interface HostProgress {
  attempt: number;
  worker: number;
  /** False in the host's last write (it found nothing left to claim; the trainer returned). */
  running: boolean;
  /** The shard it is embedding, or null between shards (always null for a training host). */
  shard: number | null;
  shards: number;
  /** Rows embedded, or examples trained on in this attempt. */
  rows: number;
  /** Real tokens embedded, or trained on in this attempt. */
  tokens: number;
  seconds: number;
  /** A training host's last train step: the trainer's train-progress line (lora_trainer.py). */
  training?: TrainStepProgress;
}

/** The trainer's last train-progress line, as the primary host of a training job writes it in its HostProgress. */
export interface TrainStepProgress {
  step: number;
  total: number;
  loss: number;
  /** Real tokens over the time spent in train steps in this attempt (evaluations and checkpoints not counted). */
  tokens_per_second: number;
  /** The trainer's estimate: steps left at this attempt's wall seconds per step so far (evaluations and checkpoints included). */
  eta_seconds: number;
}

/** Written by each worker when it ends, successfully or not. */
export interface WorkerReport {
  attempt: number;
  worker: number;
  status: 'ok' | 'failed';
  message?: string;
  /** Output metadata the step set, by port. */
  meta: Record<string, Record<string, unknown>>;
  produced: number;
}

/** Object names, relative to the device's bucket root. */
export const layout = {
  object: (digest: Sha256Hex): string => `objects/${digest}`,
  job: (key: string): string => `jobs/${key}/`,
  attempt: (key: string, attempt: number): string => `jobs/${key}/attempts/${String(attempt).padStart(4, '0')}.json`,
  attempts: (key: string): string => `jobs/${key}/attempts/`,
  markers: (key: string): string => `jobs/${key}/markers/`,
  claims: (key: string): string => `jobs/${key}/claims/`,
  progresses: (key: string): string => `jobs/${key}/progress/`,
  /** A host's progress object is `progress/ATTEMPT-W.json`; this is its attempt's prefix. */
  attemptProgress: (key: string, attempt: number): string => `jobs/${key}/progress/${String(attempt).padStart(4, '0')}-`,
  claim: (key: string, index: number): string => `jobs/${key}/claims/${String(index).padStart(6, '0')}.json`,
  marker: (key: string, port: string, index: number): string => `jobs/${key}/markers/${port}/${String(index).padStart(6, '0')}.json`,
  report: (key: string, attempt: number, worker: number): string =>
    `jobs/${key}/workers/${String(attempt).padStart(4, '0')}-${worker}.json`,
  reports: (key: string, attempt: number): string => `jobs/${key}/workers/${String(attempt).padStart(4, '0')}-`,
  checkpoints: (key: string): string => `jobs/${key}/checkpoints/`,
  checkpoint: (key: string, step: number): string => `jobs/${key}/checkpoints/${String(step).padStart(8, '0')}.json`,
  outputs: (key: string): string => `jobs/${key}/outputs.json`,
};

/** The step of a checkpoint marker's name, or undefined for another name. */
export function checkpointStep(key: string, name: string): number | undefined {
  const m = /^(\d{8})\.json$/.exec(name.slice(layout.checkpoints(key).length));
  return m === null ? undefined : Number(m[1]);
}

/** Parses a marker name back into port and shard index. */
export function markerUnit(key: string, name: string): { port: string; index: number } | undefined {
  const m = /^([a-z_][a-z0-9_]*)\/(\d+)\.json$/.exec(name.slice(layout.markers(key).length));
  return m === null ? undefined : { port: m[1]!, index: Number(m[2]) };
}

/** The shards worker `index` of `workers` takes: every workers-th one, starting at its index. */
export function shardsOf(shards: readonly number[], index: number, workers: number): number[] {
  return shards.filter((_, position) => position % workers === index);
}

/**
 * The startup script the engine puts in node metadata. On a TPU VM it reads the job and the worker
 * index from the metadata server; where they are already in the environment (the local test server),
 * those win. `workerCommand` must start Strand (or a payload honouring this contract) on the host.
 */
export function startupScript(workerCommand: string): string {
  return [
    '#!/bin/bash',
    '# Strand worker launcher: see docs/tpu.md, "Worker contract".',
    'set -euo pipefail',
    'attr() { curl -sf -H \'Metadata-Flavor: Google\' "http://metadata.google.internal/computeMetadata/v1/instance/attributes/$1"; }',
    `export ${WORKER_ENV.job}="\${${WORKER_ENV.job}:-$(attr ${NODE_METADATA.job})}"`,
    `export ${WORKER_ENV.index}="\${${WORKER_ENV.index}:-$(attr agent-worker-number)}"`,
    `exec ${workerCommand} worker`,
    '',
  ].join('\n');
}
