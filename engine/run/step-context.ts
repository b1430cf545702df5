// Owns the StepContext a plugin runs with: input readers over verified store objects, output writers
// whose shards are checkpointed (and skipped on resume), side-effect units, progress and logs.
// An output shard is written behind: `shard()` returns once the shard is produced and handed to the
// writer (with a few shards in flight at most), so the writes and fsyncs of shard i, on the thread pool,
// overlap the making of the next shards. A shard counts (checkpoint, `shard-done`) only once its object
// is durable, and `finish` waits for all.
import { resolve } from 'node:path';
import { arrow } from '../util/arrow.js';
import type { ArtifactMeta, DataAccess, InputArtifact, OutputWriter, StepContext } from '../plugin-api/step-context.js';
import type { RunPlacement } from '../plugin-api/run-placement.js';
import { localPlacement } from '../devices/run-placement.js';
import type { EmitRunEvent } from '../events/run-event.js';
import { localTrainer, type StepTrainer } from '../jax/run-trainer.js';
import type { ArtifactManifest } from '../plan/step-record.js';
import type { CheckpointLog } from '../store/checkpoint-log.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { StepSpec } from '../workflow/workflow.js';

/**
 * Output shards being written while the step makes the next ones. Four keeps the thread pool's four
 * threads busy with writes and fsyncs when a step makes shards faster than one fsync (source, tokenize).
 */
const WRITES_IN_FLIGHT = 4;

/** Thrown inside a step when the run was asked to stop; the step ends as interrupted, not failed. */
export class StepInterrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Whether a unit of work still needs doing here: done (resume past it), elsewhere (another worker's), or to do. */
export type UnitStatus = 'todo' | 'done' | 'elsewhere';

/**
 * Where a step's units, artifacts and state live: the local store and checkpoint log for a local run
 * (localStepIo), Cloud Storage objects and shard markers for a worker on a remote device.
 */
export interface StepIo {
  unitStatus(unit: string): UnitStatus;
  /** Records a completed unit durably; it counts as done from then on. */
  completeUnit(unit: string, result: { digest?: Sha256Hex; rows?: number }): Promise<void>;
  manifest(port: string): ArtifactManifest | undefined;
  readObject(digest: Sha256Hex): Promise<Uint8Array>;
  writeObject(bytes: Uint8Array): Promise<Sha256Hex>;
  saveState(bytes: Uint8Array): void;
  loadState(): Uint8Array | undefined;
}

export interface StepContextParts {
  step: Pick<StepSpec, 'id' | 'plugin' | 'params'>;
  io: StepIo;
  signal: AbortSignal;
  workdir: string;
  /** Where a path param points on this machine (default: relative to workdir). */
  resolvePath?: (path: string) => string;
  /** The workers the workflow declares (`mesh: { data: N }` on the local CPU); undefined: the step chooses. */
  workers: number | undefined;
  data: DataAccess;
  /** Where and how the step computes (default: the local CPU under onnxruntime with `workers` workers). */
  placement?: RunPlacement;
  fileDigest: (path: string) => Sha256Hex | undefined;
  emit: EmitRunEvent;
  now: () => Date;
  /** What `ctx.train` runs (default: the trainer as a local process on the placement's host devices). */
  trainer?: StepTrainer;
}

export interface StepContextHandle {
  context: StepContext;
  /** Output metadata set by the step, by port. */
  meta: Map<string, ArtifactMeta>;
  external: string[];
  /**
   * Waits until every output shard the step produced is durable and counted; rejects with the first
   * write that failed. Call it once `run` has returned (or thrown: shards produced before still count).
   */
  finish(): Promise<void>;
}

/** The StepIo of a local run: verified objects in the store, units in the step's checkpoint log. */
export function localStepIo(objects: ObjectStore, checkpoints: CheckpointLog, inputs: Record<string, Sha256Hex>): StepIo {
  return {
    unitStatus: (unit) => {
      const done = checkpoints.entries.get(unit);
      return done !== undefined && (done.digest === undefined || objects.has(done.digest)) ? 'done' : 'todo';
    },
    completeUnit: (unit, result) => checkpoints.recordAsync({ unit, ...result }),
    manifest: (port) => (inputs[port] === undefined ? undefined : objects.getJson<ArtifactManifest>(inputs[port])),
    readObject: async (digest) => objects.get(digest),
    writeObject: (bytes) => objects.putAsync(bytes),
    saveState: (bytes) => checkpoints.record({ unit: 'state', digest: objects.put(bytes) }),
    loadState: () => {
      const saved = checkpoints.entries.get('state')?.digest;
      return saved === undefined || !objects.has(saved) ? undefined : objects.get(saved);
    },
  };
}

/** Reads an artifact's shards as Arrow tables, through `readObject` (which verifies each digest). */
export function artifactReader(
  name: string,
  manifest: ArtifactManifest,
  readObject: (digest: Sha256Hex) => Promise<Uint8Array>,
): InputArtifact {
  return {
    type: manifest.type,
    meta: manifest.meta,
    shardCount: manifest.shards.length,
    rows: manifest.shards.reduce((n, s) => n + s.rows, 0),
    readShard: async (index) => {
      const shard = manifest.shards[index];
      if (shard === undefined) throw new RangeError(`${name} has no shard ${index}`);
      return arrow.tableFromIPC(await readObject(shard.digest));
    },
  };
}

export function createStepContext(parts: StepContextParts): StepContextHandle {
  const { step, io, signal, emit } = parts;
  const time = (): string => parts.now().toISOString();
  const meta = new Map<string, ArtifactMeta>();
  const external: string[] = [];
  const resolvePath = parts.resolvePath ?? ((path: string) => resolve(parts.workdir, path));

  /** True when `unit` counts already (told as resumed); throws when the step was asked to stop before it. */
  const skipIfDone = (unit: string): boolean => {
    const status = io.unitStatus(unit);
    if (status !== 'todo') {
      if (status === 'done') emit({ kind: 'shard-resumed', step: step.id, unit, time: time() });
      return true;
    }
    if (signal.aborted) throw new StepInterrupted();
    return false;
  };

  const runUnit = async (unit: string, work: () => Promise<{ digest?: Sha256Hex; rows?: number }>): Promise<'produced' | 'resumed'> => {
    if (skipIfDone(unit)) return 'resumed';
    const result = await work();
    await io.completeUnit(unit, result);
    emit({ kind: 'shard-done', step: step.id, unit, ...(result.rows !== undefined ? { rows: result.rows } : {}), time: time() });
    return 'produced';
  };

  /** Reads port `port`, declared required (`optional` false) or optional: asking the wrong way is a bug. */
  const artifact = (port: string, optional: boolean): InputArtifact | undefined => {
    const spec = step.plugin.inputs[port];
    if (spec === undefined) throw new Error(`${step.plugin.id} reads undeclared input "${port}"`);
    if ((spec.optional === true) !== optional)
      throw new Error(
        `${step.plugin.id}: input "${port}" is ${optional ? 'required: read it with ctx.input()' : 'optional: read it with ctx.optionalInput()'}`,
      );
    const manifest = io.manifest(port);
    return manifest === undefined ? undefined : artifactReader(`input ${port}`, manifest, (digest) => io.readObject(digest));
  };

  // Shard writes in flight, oldest first (each settles once its shard counts, or with the write's error).
  const writes: Promise<void>[] = [];
  let writeFailure: { error: unknown } | undefined;
  // Objects are written side by side, but shards count in the order they were made: each checkpoint is
  // queued after the one before it (the log appends queued entries together, with one fsync), and each
  // `shard-done` follows the one before it. Completed shards stay a prefix, as when written one by one.
  let lastQueued: Promise<void> = Promise.resolve();
  let lastCounted: Promise<void> = Promise.resolve();
  const writeBehind = async (unit: string, bytes: Uint8Array, rows: number): Promise<void> => {
    const queuedBefore = lastQueued;
    const countedBefore = lastCounted;
    const written = io.writeObject(bytes);
    let queue: { resolve: () => void; reject: (error: unknown) => void } | undefined;
    const queued = new Promise<void>((resolve, reject) => (queue = { resolve, reject }));
    const counted = (async () => {
      let recording: Promise<void>;
      try {
        const digest = await written;
        await queuedBefore;
        recording = io.completeUnit(unit, { digest, rows });
        queue!.resolve();
      } catch (error) {
        queue!.reject(error);
        throw error;
      }
      await recording;
      await countedBefore.catch(() => undefined); // only the order of the lines waits on it
      emit({ kind: 'shard-done', step: step.id, unit, rows, time: time() });
    })();
    // Noted here, so a failure is never unhandled: `shard` and `finish` report it.
    queued.catch(() => undefined);
    counted.catch((error: unknown) => (writeFailure ??= { error }));
    lastQueued = queued;
    lastCounted = counted;
    writes.push(counted);
    // Backpressure: memory stays bounded by the shards in flight.
    while (writes.length > WRITES_IN_FLIGHT) await writes.shift();
  };

  const output = (port: string): OutputWriter => {
    if (step.plugin.outputs[port] === undefined) throw new Error(`${step.plugin.id} writes undeclared output "${port}"`);
    return {
      isDone: (index) => io.unitStatus(`output:${port}:${index}`) !== 'todo',
      shard: async (index, produce) => {
        const unit = `output:${port}:${index}`;
        if (skipIfDone(unit)) return 'resumed';
        const table = await produce();
        await writeBehind(unit, arrow.tableToIPC(table, 'file'), table.numRows);
        return 'produced';
      },
      setMeta: (values) => meta.set(port, { ...(meta.get(port) ?? {}), ...values }),
    };
  };

  const finish = async (): Promise<void> => {
    await Promise.allSettled(writes.splice(0));
    if (writeFailure !== undefined) throw writeFailure.error;
  };

  const placement = Object.freeze({ ...(parts.placement ?? localPlacement(parts.workers ?? 1)) });
  const context: StepContext = {
    stepId: step.id,
    params: step.params,
    workers: parts.workers,
    placement,
    signal,
    workdir: parts.workdir,
    resolvePath,
    data: parts.data,
    input: (port) => {
      const found = artifact(port, false);
      if (found === undefined)
        throw new Error(`${step.plugin.id}: required input "${port}" is not wired (validation should have refused the workflow)`);
      return found;
    },
    optionalInput: (port) => artifact(port, true),
    output,
    once: (unit, work) => runUnit(`once:${unit}`, async () => (await work(), {})),
    onceDone: (unit) => io.unitStatus(`once:${unit}`) === 'done',
    state: { save: (bytes) => io.saveState(bytes), load: () => io.loadState() },
    fileDigest: (path) => parts.fileDigest(resolvePath(path)),
    recordExternalOutput: (path) => void external.push(path),
    progress: (update) => emit({ kind: 'step-progress', step: step.id, ...update, time: time() }),
    log: (message) => emit({ kind: 'step-log', step: step.id, message, time: time() }),
    train: parts.trainer ?? localTrainer(signal, process.env),
  };
  return { context, meta, external, finish };
}

/** Builds an output's manifest from its checkpointed shards (in index order). */
export function manifestFromCheckpoints(type: string, port: string, checkpoints: CheckpointLog, meta: ArtifactMeta): ArtifactManifest {
  const prefix = `output:${port}:`;
  const shards = [...checkpoints.entries.values()]
    .filter((e) => e.unit.startsWith(prefix) && e.digest !== undefined)
    .map((e) => ({ index: Number(e.unit.slice(prefix.length)), digest: e.digest!, rows: e.rows ?? 0 }))
    .sort((a, b) => a.index - b.index);
  return { schema: 1, type, shards, meta };
}
