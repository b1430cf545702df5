// Owns what a running step is given (`StepContext`): its params and placement, its inputs and output
// writers, data access, resumable state, progress and the trainer. Part of the public plugin API.
import type { Table } from 'apache-arrow';
import type { JaxEvent } from '../jax/jax-process.js';
import type { TrainJob, TrainPaths } from '../jax/jax-job.js';
import type { PortType } from './port.js';
import type { RunPlacement } from './run-placement.js';

/** Free-form, JSON-serialisable facts that travel with an artifact (vector dimension, model digest, tokenizer). */
export type ArtifactMeta = Record<string, unknown>;

/** An upstream artifact: a list of Arrow shards in the content-addressed store. */
export interface InputArtifact {
  type: PortType;
  meta: ArtifactMeta;
  shardCount: number;
  rows: number;
  /** Reads shard `index`, verifying its digest. */
  readShard(index: number): Promise<Table>;
}

/** Writes an output artifact shard by shard, each shard durable before it counts. */
export interface OutputWriter {
  /**
   * Whether an earlier, interrupted attempt of this same step completed shard `index` (then `shard` will
   * resume it without calling `produce`). For steps that hand many shards to one external process.
   */
  isDone(index: number): boolean;
  /**
   * Produces shard `index` unless an earlier, interrupted attempt of this same step already completed it,
   * in which case `produce` is not called (resume). Returns whether it ran.
   */
  shard(index: number, produce: () => Promise<Table>): Promise<'produced' | 'resumed'>;
  /** Facts recorded with the artifact (merged; the last write of a key wins). */
  setMeta(meta: ArtifactMeta): void;
}

/** A file a step reads: a local file, or one gs:// object at the generation the plan listed. */
export interface DataFile {
  /** How messages name it: the path relative to the workdir, or `gs://bucket/name`. */
  label: string;
  size: number;
  /**
   * Bytes [start, end): a ranged read. For gs://, a dropped connection is retried; an object that changed
   * since the plan, or that comes back short, fails with a StepError naming it.
   */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A file or object being written: it appears under its name, complete, only on `commit`. */
export interface DataOutput {
  write(bytes: Uint8Array): Promise<void>;
  /** Local: fsync and rename. gs://: finish the upload (ifGenerationMatch: 0) and verify size and crc32c. */
  commit(): Promise<void>;
  /** Leave nothing under the name. */
  abort(): void;
}

/** Where a step's data lives — local paths or gs:// URIs — behind one interface. */
export interface DataAccess {
  /** The files a path or glob names (gs://: the objects the plan listed, at those generations), sorted. */
  inputFiles(path: string): Promise<DataFile[]>;
  /** A file to write (gs://: an object written once, never replacing one). */
  createOutput(path: string): Promise<DataOutput>;
  /** A small side file (a table's provenance); undefined when absent. */
  readText(path: string): Promise<string | undefined>;
  /** Replaces a small side file atomically (gs://: only if nobody changed it since it was read). */
  writeText(path: string, text: string): Promise<void>;
  /** Where LanceDB opens a table directory, and the storage options (endpoint, credentials) it needs. */
  lanceLocation(path: string): { uri: string; storageOptions: Record<string, string> };
}

export interface ProgressUpdate {
  done: number;
  total?: number;
  unit: string;
  /** Extra counters for rates (e.g. tokens). */
  counters?: Record<string, number>;
  /** Latest values shown as they are, not as rates (e.g. a training loss). */
  values?: Record<string, number>;
  /**
   * Seconds left, when the step knows better than the rate since it started (a trainer timing its own steps,
   * after its compile, or on a slice that took minutes to boot). Without it, the view divides what is left by
   * the rate since the step started.
   */
  etaSeconds?: number;
}

export interface StepContext<P extends object = Record<string, unknown>> {
  stepId: string;
  /** Where and how this step computes (read-only; see RunPlacement). */
  placement: Readonly<RunPlacement>;
  /** `with:` with every `${{ params.X }}` resolved. */
  params: P;
  /**
   * Data-parallel workers the workflow declares for this step (`mesh: { data: N }` on a `kind: cpu` device);
   * undefined where it declares none, and the step chooses (embed/onnx: by its model's size and shards). A step that
   * honours it processes shards with N workers sharing the cores; its outputs must not depend on N.
   */
  workers: number | undefined;
  /** Aborted on Ctrl-C or when the run stops: finish the current shard, then return. */
  signal: AbortSignal;
  /** The directory relative paths resolve against (where `strand` was started). */
  workdir: string;
  /** An absolute path for a path param. */
  resolvePath(path: string): string;
  /** Local files and gs:// objects, for path params (read `x-strand-path` params through this, not fs). */
  data: DataAccess;
  /** A required input: always wired (validation refuses a workflow that leaves it unwired). */
  input(port: string): InputArtifact;
  /** An input declared `optional: true`: undefined when the workflow leaves it unwired. */
  optionalInput(port: string): InputArtifact | undefined;
  output(port: string): OutputWriter;
  /**
   * Runs a side-effect unit (e.g. appending shard 3 to a LanceDB table) exactly once per attempt chain:
   * after a crash, units that completed are skipped. The unit must be idempotent if it is interrupted midway.
   */
  once(unit: string, work: () => Promise<void>): Promise<'produced' | 'resumed'>;
  /**
   * Whether an earlier, interrupted attempt of this same step completed `once` unit `unit` (then `once`
   * skips it). For steps that do the work of several units in one action, then record each with `once`.
   */
  onceDone(unit: string): boolean;
  /**
   * A step's own resumable state (e.g. training weights and optimizer moments): `save` replaces it
   * durably; after a crash, `load` returns the last saved bytes of this same step (same cache key).
   */
  state: { save(bytes: Uint8Array): void; load(): Uint8Array | undefined };
  /** Content digest (SHA-256 hex) of a file or directory, cached by stat like the engine's own. */
  fileDigest(path: string): string | undefined;
  /** Records a file or directory written outside the store; its digest is kept so edits are noticed. */
  recordExternalOutput(path: string): void;
  progress(update: ProgressUpdate): void;
  log(message: string): void;
  /**
   * Runs a train job (runtime/jax lora_trainer.py) for this step: a local process on the step's placement,
   * or, when the step is placed on a remote device (a plugin with `remoteTraining`), the same job on the
   * slice (docs/tpu.md "Worker contract", training jobs), `paths` staying here. `onEvent` gets the trainer's lines
   * in order; remotely only `train-progress` ones, for the steps the primary host's progress object showed
   * when the engine looked (not every step), and `checkpoint` ones, each once its files are in `dir` here. Resolves with the
   * train-summary; rejects with a StepError, or an AbortError when the run was stopped (checkpoints
   * reported so far stand).
   */
  train(job: TrainJob, paths: TrainPaths, onEvent: (event: JaxEvent) => Promise<void>): Promise<JaxEvent>;
}
