// Owns the step plugin's shape: what a plugin declares (id, version, params schema, ports, how it may be
// placed) and `defineStep`. Part of the public plugin API (engine/index.ts re-exports it).
import type { Mesh } from '../devices/estimate-placement.js';
import type { ArtifactMeta, DataAccess, StepContext } from './step-context.js';
import type { EmbedJob, TrainSettings } from '../jax/jax-job.js';
import type { RunPlacement, Runtime } from './run-placement.js';
import type { PortSpec } from './port.js';

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
   * A tokenizer's cap, from its params alone: the most tokens a row of its output holds. Steps placed on
   * devices downstream are estimated and pre-flighted no further than it (tokens-per-sequence.ts).
   */
  maxTokens?(params: P): number;
  /**
   * A step the JAX runtime (runtime/jax) computes owns its JAX facts here: the program the pre-flight
   * compiles, and for a shard-parallel step the one job every host (or the local process) runs and its
   * outputs' meta. The engine reads them; nothing lists plugin ids elsewhere, in TypeScript or Python.
   */
  jax?: JaxFacts<P>;
  // A step that has nothing to report simply returns: `void` is the plain way to say so in a plugin's type.
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  run(ctx: StepContext<P>): Promise<StepSummary | void>;
}

/** What `JaxFacts.preflight` answers. */
export interface StepPreflight {
  options: TrainSettings;
  perDeviceBatch: number;
}

export interface JaxFacts<P extends object> {
  /** The compiled program the pre-flight checks (runtime/jax preflight_programs.py). */
  program: 'embed-forward' | 'train-step';
  /**
   * For a program that needs more than the placement: the builder's options and the per-device batch, for a
   * step that derives it from its own params rather than `batch:`, given the step's whole mesh. A StepError
   * thrown here (a batch that does not split over the mesh) leaves the formula, with its message.
   */
  preflight?(params: P, mesh: Mesh): StepPreflight;
  /**
   * A shard-parallel step: the job that computes its shards, from its checked params, its inputs' meta (by
   * port; an unwired optional input is absent) and its resolved placement.
   */
  shardJob?(params: P, inputs: Readonly<Record<string, ArtifactMeta>>, placement: RunPlacement): EmbedJob;
  /**
   * A shard-parallel step: its outputs' meta, by port, from the job, its inputs' meta, what the runtime
   * reported (`dim`) and the model's digest — one function, so the meta is the same wherever it ran.
   */
  outputMeta?(
    job: EmbedJob,
    inputs: Readonly<Record<string, ArtifactMeta>>,
    reported: { dim?: number },
    modelDigest: string | undefined,
  ): Record<string, ArtifactMeta>;
}

/** What `StepPlugin.countSequences` answers. */
export interface SequenceCount {
  count: number;
  /** E.g. "counted from Parquet footers", "estimated from bytes". */
  how: string;
  /** Shards they come in (before hygiene filters, which only drop records), when the source can tell. */
  shards?: number;
}

/** Declare a step plugin; returns it unchanged with its types checked. */
export function defineStep<P extends object = Record<string, unknown>>(plugin: StepPlugin<P>): StepPlugin<P> {
  return plugin;
}
