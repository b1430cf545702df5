// The public plugin API of Strand. A step plugin — built-in or a user's `./plugins/my-step.js` — is
// `defineStep({...})` and uses nothing but what this module exports. Built-in steps import only this.
import type { Table } from 'apache-arrow';
import type { Mesh } from './devices/estimate-placement.js';
import type { JaxEvent } from './jax/jax-process.js';

export { openAtomicFile, writeFileAtomic, type AtomicFile } from './store/atomic-write.js';
export { globFiles } from './util/glob-files.js';
export { streamDataFile } from './data/stream-data-file.js';
/** The external data files an ONNX model loads besides itself, and what is wrong with them. */
export { onnxModelFiles, type OnnxModelFiles } from './onnx/onnx-model-files.js';
export { describeExternalDataProblem, type ExternalDataFile, type ExternalDataProblem } from './onnx/external-data-files.js';
export { writeProvenance, type TableProvenance } from './util/table-provenance.js';
/** Quote input in a message with invisible characters escaped (`"\uFEFF>seq"`), and read through a leading byte-order mark. */
export { quoteText, showInvisible } from './util/show-invisible.js';
export { withoutByteOrderMark } from './util/byte-order-mark.js';
/**
 * Runs the JAX runtime (`python -m strand_jax embed`, runtime/jax) over token shard files: one JSON line
 * per durable vector shard, then a summary; a missing Python environment is a StepError with the setup hint.
 */
export {
  runJaxEmbed,
  runJaxProcess,
  trainLoraArgs,
  type JaxEmbedJob,
  type JaxEmbedSummary,
  type JaxEvent,
  type JaxShardDone,
} from './jax/jax-process.js';
/** The apache-arrow module instance to build tables with (the one LanceDB understands). */
export { arrow } from './util/arrow.js';

/** Data types that flow between steps. Ports are wired by type; add your own strings for custom data. */
export type PortType = 'sequences' | 'tokens' | 'embeddings' | 'model' | 'table' | 'metrics' | (string & {});

/** An input or output port of a step. */
export interface PortSpec {
  /** What flows through it; `needs` wires an input to the one upstream output of the same type. */
  type: PortType;
  description?: string;
  /** An optional input may stay unwired. */
  optional?: boolean;
  /** Wired only by `inputs:`, never by type from `needs` (for a second input of a type the step already takes). */
  explicit?: boolean;
}

/**
 * A JSON Schema (draft 2020-12) object. String properties may carry `"x-strand-path": "input" | "output"`,
 * and an input may add `"x-strand-format": "onnx"`: an ONNX model, whose external data files enter the
 * cache key and are checked at validate time, and whose facts (layers, hidden size) feed placement.
 * `"x-strand-uri": ["gs"]`: the param also takes gs:// URIs (read through `ctx.data`);
 * `"x-strand-uri-remote": ["gs"]`: it takes them only when the step runs on a remote device, whose hosts
 * read the objects themselves (the engine never stages them).
 */
export type JsonSchema = Record<string, unknown>;

/** What a step reports when it finishes: shown in the run summary and written to the journal. */
export type StepSummary = Record<string, number | string | boolean>;

/**
 * A step plugin. `P` is the type of its resolved `with:` (checked against `with` before `run` is called).
 * Any `StepPlugin<P>` is a `StepPlugin` (the default), so built-in lists need no casts.
 */
export interface StepPlugin<P extends object = object> {
  /** The name users write in `uses:` (`embed/onnx`), or the file path of a local plugin. */
  id: string;
  /** Part of every cache key: bump it when the step's output for the same inputs changes. */
  version: string;
  description: string;
  /**
   * JSON Schema of `with:`; folded into schemas/workflow.schema.json for editor completion. Mark string
   * properties naming files with `"x-strand-path": "input"` (their content enters the cache key) or
   * `"output"` (written outside the store; recorded by digest so a hand edit is noticed).
   */
  with: JsonSchema;
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  /** `with:` keys that are numerics settings rather than execution settings (they enter the key as `numerics`). */
  numerics?: readonly string[];
  /** `with:` keys that only change how fast a step runs (threads, batch size): left out of the cache key. */
  execution?: readonly string[];
  /**
   * Set when output shard i is computed from shard i of input `shardsFrom` alone, and the step uses neither
   * `once` nor `state`: it can then run split across the hosts of a remote device (a TPU slice), each host
   * taking some shards. Steps without it run on the local machine only.
   */
  shardParallel?: { shardsFrom: string };
  /**
   * Set when the step's work is one training run through `ctx.train` (finetune/nt-lora): on a remote device
   * its run() still runs here, and `ctx.train` runs the trainer there as one training job that resumes from
   * its last complete checkpoint after a preemption.
   */
  remoteTraining?: true;
  /**
   * The runtimes the step can compute with, when more than one (`embed/nt`: `['onnx', 'jax']`). The device
   * it is placed on chooses (`ctx.placement.runtime`), and the runtime and the precision then enter the
   * cache key as `numerics` (onnxruntime and XLA round differently). Without it the step computes in the
   * engine's process, and a device that declares `runtime: jax` refuses it at validate time.
   */
  runtimes?: readonly Runtime[];
  /**
   * A source step's count of the sequences it will emit, read cheaply before it runs (Parquet footers, a
   * scan of FASTA headers) so `strand plan` can give time and cost for the steps downstream. `how` says
   * whether it is counted or estimated, and from what.
   */
  countSequences?(params: P, data: DataAccess): Promise<SequenceCount>;
  /**
   * For a step with a compiled program (engine/devices/preflight-placements.ts PREFLIGHT_PROGRAMS) whose
   * program needs more than the placement: the builder's `options` and the per-device batch, for a step that
   * derives it from its own params rather than `batch:`, given the step's whole mesh. A StepError thrown
   * here (a batch that does not split over the mesh) leaves the formula, with its message.
   */
  preflight?(params: P, mesh: Mesh): StepPreflight;
  // A step that has nothing to report simply returns: `void` is the plain way to say so in a plugin's type.
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  run(ctx: StepContext<P>): Promise<StepSummary | void>;
}

/** What `StepPlugin.preflight` answers. */
export interface StepPreflight {
  options: Record<string, unknown>;
  perDeviceBatch: number;
}

/** What `StepPlugin.countSequences` answers. */
export interface SequenceCount {
  count: number;
  /** E.g. "counted from Parquet footers", "estimated from bytes". */
  how: string;
}

/** Declare a step plugin; returns it unchanged with its types checked. */
export function defineStep<P extends object = Record<string, unknown>>(plugin: StepPlugin<P>): StepPlugin<P> {
  return plugin;
}

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
}

/**
 * What computes a step: `onnx` is onnxruntime-node (and the engine's own code) in Strand's process; `jax`
 * is the JAX runtime (`runtime/jax`, a Python process) on XLA devices.
 */
export type Runtime = 'onnx' | 'jax';

/**
 * Where and how a step computes, resolved from its device (`on:`), `mesh:`, `batch:` and `precision:`
 * before it starts. The fields of the remote job spec's `placement` (engine/cloud/worker-contract.ts) have
 * the same names, types and values; `kind`, `runtime` and `hostDevices` are added here.
 */
export interface RunPlacement {
  /** The placement as `strand plan` shows it, e.g. `local cpu (jax, 8 host devices) mesh 2x2x2 batch 8/dev`. */
  device: string;
  kind: 'cpu' | 'tpu' | 'gpu';
  /** Which runtime computes: the device's `runtime:` (kind: cpu), `jax` on tpu and gpu, for steps that list it in `runtimes`. */
  runtime: Runtime;
  /** data x fsdp x tp = the placement's devices (on kind: cpu with onnx, data is the number of workers). */
  mesh: { data: number; fsdp: number; tp: number };
  perDeviceBatch: number;
  /** perDeviceBatch x data x fsdp. */
  globalBatch: number;
  /** `precision:`, else fp32 on a CPU and bf16 on an accelerator; onnxruntime always computes fp32. */
  precision: 'fp32' | 'bf16';
  /** kind: cpu, runtime: jax: the XLA host devices the CPU is split into (`devices:` on the device). */
  hostDevices?: number;
}

export interface StepContext<P extends object = Record<string, unknown>> {
  stepId: string;
  /** Where and how this step computes (read-only; see RunPlacement). */
  placement: Readonly<RunPlacement>;
  /** `with:` with every `${{ params.X }}` resolved. */
  params: P;
  /**
   * Data-parallel workers for this step (`mesh: { data: N }` on a `kind: cpu` device; 1 otherwise). A step
   * that honours it processes shards with N workers sharing the cores; its outputs must not depend on N.
   */
  workers: number;
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
   * Runs the JAX LoRA trainer (runtime/jax lora_trainer.py) for this step: a local process on the step's
   * placement, or, when the step is placed on a remote device (a plugin with `remoteTraining`), one training
   * job on the slice (docs/tpu.md "Worker contract", training jobs). `onEvent` gets the trainer's lines in order;
   * remotely only `checkpoint` ones, each once its files are in `dir` here. Resolves with the train-summary;
   * rejects with a StepError, or an AbortError when the run was stopped (checkpoints reported so far stand).
   */
  train(job: TrainerJob, onEvent: (event: JaxEvent) => Promise<void>): Promise<JaxEvent>;
}

/** The trainer's job (lora_trainer.py): its settings, and the local paths the trainer reads and writes. */
export interface TrainerJob {
  [setting: string]: unknown;
  /** The model folder. */
  model: string;
  /** The examples, Arrow IPC (id, tokens, split, labels). */
  data: string;
  /** Where the adapters/, head.safetensors and metrics.json are written. */
  out: string;
  /** Orbax's checkpoint folder (STEP/ under it, each renamed into place when whole). */
  checkpoints: string;
  tensorboard: string;
  /** A folder holding the checkpoint to resume from (STEP/ under it). */
  resume?: string;
  checkpoint_every_minutes: number;
}

/** An error a step raises for bad input: shown as `message` and `hint`, without a stack trace. */
export class StepError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}
