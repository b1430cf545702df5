// Owns running one step on a Cloud TPU slice, as an explicit state machine: check access, stage the step's
// inputs by content in the device's bucket, create a node whose startup script starts a worker per host,
// write the attempt's job spec once it is READY, follow the job's progress in the bucket, and on preemption
// delete the node and start a new attempt for what is left. What progress is and what an attempt is given
// is the job kind's (job-progress.ts): a shard-parallel step follows shard markers, collecting each finished
// shard into the local store and checkpoint log as it lands, and gives a new attempt the shards without a
// marker (shard-collector.ts); a training job follows checkpoint markers and gives a new attempt the last
// complete checkpoint to resume from (training-progress.ts). The bucket, the TPU API and the clock reach it
// through `RemoteServices` (remote-services.ts).
//
// With `replicas: K` (a JAX shard-parallel step), the states from creating on run once per node, K at once
// (one machine, K node slots): every node's job spec lists every shard without a marker, and the hosts of all
// nodes claim shards as they free up (worker-contract.ts, ShardClaim). A lost node's claims on unmarked
// shards are released; it is replaced only while more shards are left than the other nodes' hosts take in
// one round (the last node is always replaced while anything is left), else the others take its shards. Once
// every shard is home and a node has reported, the nodes still booting or looking for work are deleted.
// When every slot has ended with shards left whose claims were released after the other hosts had stopped
// claiming, one more node is created for them. A run starts by releasing every claim (the nodes of an
// earlier run are deleted first). A slot that fails stops the others; each slot deletes its own node.
//
//   checking ──► staging ──► resuming ── everything collected, the last attempt reported ok ─────────► done
//                               │ work to do                                                            ▲
//                               ▼                                                                       │
//   ┌──────────────────────► creating ──► waiting-ready ──► running ──► finished ── keep: true ─────────┤
//   │ attempt + 1               │          ↺ poll until     ↺ poll     (every host      └─ else: delete ─┘
//   │                           │            READY            │        reported ok)
//   │        attempts used up:  ▼ fail                        │ node PREEMPTED, TERMINATED, DELETED, …
//   └──── delete the node ◄──────────────── lost ◄────────────┘ (what landed before is collected first)
//
//   Failures (each deletes the node, except in creating before a node was asked for):
//     creating       max_attempts nodes were lost; the TPU API refuses (quota, permission)
//     waiting-ready  the node is lost before READY; the run is stopped
//     running        no marker and no report for stall_minutes (+ checkpoint_every_minutes for training); a
//                    host reports failed; the run is stopped (interrupted: finished shards and complete
//                    checkpoints kept)
//     (every slot)   every node's hosts reported ok, and outputs have no marker that no node can still make
import { StepError } from '../plugin-api/step-error.js';
import type { ArtifactMeta } from '../plugin-api/step-context.js';
import type { StepSummary } from '../plugin-api/step-plugin.js';
import type { ObjectSnapshot } from '../data/object-snapshot.js';
import type { EmitRunEvent } from '../events/run-event.js';
import type { ArtifactManifest } from '../plan/step-record.js';
import { StepInterrupted } from '../run/step-context.js';
import type { CheckpointLog } from '../store/checkpoint-log.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { StepSpec } from '../workflow/workflow.js';
import type { RemoteTarget } from './remote-target.js';
import type { JaxJob } from '../jax/jax-job.js';
import { checkRuntimeValue } from '../jax/runtime-schema.js';
import type { RemoteServices } from './remote-services.js';
import type { JobProgress, JobWork } from './job-progress.js';
import { ShardCollector } from './shard-collector.js';
import { stageRemoteInputs, type StagedInputs } from './stage-remote-inputs.js';
import { isReady, lostState, MANAGED_LABEL, type TpuNode } from './tpu-nodes.js';
import { layout, markerUnit, NODE_METADATA, type JobSpec, type ShardClaim, type WorkerReport } from './worker-contract.js';

export interface RemoteStepParts {
  step: StepSpec;
  key: Sha256Hex;
  workflowName: string;
  target: RemoteTarget;
  inputs: Record<string, Sha256Hex>;
  objects: ObjectStore;
  checkpoints: CheckpointLog;
  workdir: string;
  /** The gs:// paths the plan listed (the step's gs:// path params are read by the hosts at these versions). */
  listing: ObjectSnapshot | undefined;
  /** The digest of a local path param (as `ctx.fileDigest` gives it); undefined for a gs:// one. */
  fileDigest(path: string): string | undefined;
  /** For a step the JAX worker runs: its job (a training job's comes from ctx.train; a shard job is built here). */
  job?: JaxJob;
  services: RemoteServices;
  emit: EmitRunEvent;
  signal: AbortSignal;
  /** Told each state the executor enters (a new kind; polls that stay in a state are not repeated). */
  onState?: (state: RemoteState) => void;
}

export interface RemoteStepResult {
  meta: Map<string, ArtifactMeta>;
  summary: StepSummary;
}

type Meta = Map<string, ArtifactMeta>;

export type RemoteState =
  | { kind: 'checking' }
  | { kind: 'staging' }
  | { kind: 'resuming'; staged: StagedInputs }
  | { kind: 'creating'; attempt: number; staged: StagedInputs }
  | { kind: 'waiting-ready'; attempt: number; nodeId: string; work: JobWork; staged: StagedInputs }
  | { kind: 'running'; attempt: number; node: TpuNode; lastProgress: number; reported: number; staged: StagedInputs }
  | { kind: 'lost'; attempt: number; nodeId: string; state: string; staged: StagedInputs }
  | { kind: 'finished'; attempt: number; nodeId: string; meta: Meta }
  | { kind: 'done'; meta: Meta; attempts: number };

/** A GCP label value: lowercase letters, digits, - and _, at most 63 characters. */
function labelValue(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 63);
}

function inputManifests(parts: RemoteStepParts): Record<string, ArtifactManifest> {
  return Object.fromEntries(Object.entries(parts.inputs).map(([port, digest]) => [port, parts.objects.getJson<ArtifactManifest>(digest)]));
}

/** The shard-parallel job kind of a step: its shards are those of its `shardsFrom` input. */
function shardProgress(parts: RemoteStepParts, manifests: Record<string, ArtifactManifest>): ShardCollector {
  const { step, services } = parts;
  const from = step.plugin.shardParallel?.shardsFrom;
  const shards = from === undefined ? undefined : manifests[from];
  if (shards === undefined) throw new Error(`bug: ${step.id} runs remotely without its shard-parallel input`);
  return new ShardCollector({
    stepId: step.id,
    key: parts.key,
    shardRows: shards.shards.map((s) => s.rows),
    ports: Object.keys(step.plugin.outputs),
    bucket: services.bucket,
    objects: parts.objects,
    checkpoints: parts.checkpoints,
    emit: parts.emit,
    time: () => services.clock.now().toISOString(),
  });
}

class RemoteStepMachine {
  /** The attempt number of this run's first node (attempts of earlier runs keep their numbers). */
  private firstAttempt = 1;
  /** The attempt number the next node gets (each node of each slot is one attempt). */
  private nextAttempt = 1;
  /** Nodes lost in this run, over every slot. */
  private losses = 0;
  /** Node slots still running; a slot ends when its node finished or it retires. */
  active = 1;
  /** Whether some node's hosts all reported ok (their report carries the outputs' meta). */
  private reportedOk = false;
  /** Shards whose claims this run released (a lost node's). */
  private readonly released = new Set<number>();
  /** Aborted by the run's signal, or when a slot fails (the other slots then stop and delete their nodes). */
  private readonly stop = new AbortController();
  readonly signal = this.stop.signal;

  constructor(
    private readonly parts: RemoteStepParts,
    private readonly manifests: Record<string, ArtifactManifest>,
    private readonly progress: JobProgress,
  ) {
    if (parts.signal.aborted) this.stop.abort();
    else parts.signal.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  /** Stops every slot (one failed). */
  halt(): void {
    this.stop.abort();
  }

  /** A new node's state, for another slot or a replacement. */
  another(staged: StagedInputs): Extract<RemoteState, { kind: 'creating' }> {
    return { kind: 'creating', attempt: this.nextAttempt++, staged };
  }

  /**
   * Shards a released claim left without a marker and without a new claim: no host will compute them once
   * every slot has ended (their hosts stopped claiming before the release).
   */
  async orphaned(): Promise<number[]> {
    const { bucket } = this.parts.services;
    const left = (await this.progress.work()).shards.filter((i) => this.released.has(i));
    const claimed = await Promise.all(
      left.map(async (i) => (await bucket.getJson<ShardClaim>(layout.claim(this.parts.key, i))) !== undefined),
    );
    return left.filter((_, at) => !claimed[at]);
  }

  /**
   * Deletes the claims of `attempt` (a lost node's) on shards without a marker and its hosts' progress objects,
   * or every claim and progress object (a run starting); resolves with the claims released.
   */
  private async releaseClaims(attempt?: number): Promise<number> {
    const { bucket } = this.parts.services;
    const { key } = this.parts;
    const marked = new Set((await bucket.list(layout.markers(key))).map((name) => markerUnit(key, name)?.index));
    let released = 0;
    for (const name of await bucket.list(layout.claims(key))) {
      if (attempt !== undefined) {
        const claim = await bucket.getJson<ShardClaim>(name);
        if (claim === undefined || claim.attempt !== attempt || marked.has(claim.index)) continue;
        this.released.add(claim.index);
      }
      await bucket.delete(name);
      released++;
    }
    // The hosts' progress objects go with them: a lost host's would count in the run view's rate forever.
    const gone = attempt === undefined ? layout.progresses(key) : layout.attemptProgress(key, attempt);
    for (const name of await bucket.list(gone)) await bucket.delete(name);
    return released;
  }

  /** The reports the hosts of `attempt` wrote so far. */
  private async reports(attempt: number): Promise<WorkerReport[]> {
    const { bucket } = this.parts.services;
    const names = await bucket.list(layout.reports(this.parts.key, attempt));
    const reports = await Promise.all(names.map((name) => bucket.getJson<WorkerReport>(name)));
    return reports.filter((r): r is WorkerReport => r !== undefined);
  }

  private time(): string {
    return this.parts.services.clock.now().toISOString();
  }

  log(message: string): void {
    this.parts.emit({ kind: 'step-log', step: this.parts.step.id, message, time: this.time() });
  }

  private nodeId(attempt: number): string {
    return `strand-${this.parts.key.slice(0, 12)}-${attempt}`;
  }

  /** The node a state holds, which a failure in it must delete. */
  nodeOf(state: RemoteState): string | undefined {
    if (state.kind === 'running') return state.node.id;
    return 'nodeId' in state ? state.nodeId : undefined;
  }

  async deleteNode(nodeId: string): Promise<void> {
    await this.parts.services.nodes.delete(nodeId);
    this.log(`deleted ${nodeId}`);
  }

  /** Performs what `state` does; resolves with the state it leads to. */
  async next(state: Exclude<RemoteState, { kind: 'done' }>): Promise<RemoteState> {
    switch (state.kind) {
      case 'checking':
        return this.check();
      case 'staging':
        return this.stage();
      case 'resuming':
        return this.resume(state);
      case 'creating':
        return this.create(state);
      case 'waiting-ready':
        return this.waitReady(state);
      case 'running':
        return this.poll(state);
      case 'lost':
        return this.recreate(state);
      case 'finished':
        return this.finish(state);
      default: {
        const unknown: never = state;
        throw new Error(`unknown state ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async check(): Promise<RemoteState> {
    const { bucket, nodes } = this.parts.services;
    const { target } = this.parts;
    if (!(await bucket.exists()))
      throw new StepError(
        `bucket ${bucket.location.bucket} (device ${target.name}) does not exist or is not readable`,
        `create it (gcloud storage buckets create gs://${bucket.location.bucket} --location=REGION) or fix bucket: in device ${target.name}`,
      );
    try {
      await nodes.checkAccess();
    } catch (error) {
      throw new StepError((error as Error).message);
    }
    this.progress.announceResumed();
    return { kind: 'staging' };
  }

  private async stage(): Promise<RemoteState> {
    const { step, objects, workdir, target, services, listing } = this.parts;
    const staged = await stageRemoteInputs(step, this.manifests, { bucket: services.bucket, objects, workdir, target, listing });
    this.log(`staged inputs in ${services.bucket.uri}`);
    return { kind: 'resuming', staged };
  }

  /** Nodes left by an engine that was killed go (their finished work stays: markers); then what is left to do. */
  private async resume({ staged }: { staged: StagedInputs }): Promise<RemoteState> {
    const { key, services } = this.parts;
    for (const node of await services.nodes.list()) {
      if (node.labels['strand-key'] !== key.slice(0, 16)) continue;
      this.log(`deleting TPU ${node.id}, left by an earlier run (${node.state})`);
      await services.nodes.delete(node.id);
    }
    this.firstAttempt = (await services.bucket.list(layout.attempts(key))).length + 1;
    this.nextAttempt = this.firstAttempt;
    await this.releaseClaims(); // no node of an earlier run is left to compute what it claimed
    await this.progress.collect();
    // A run that stopped after everything landed still needs the workers' output metadata.
    if (this.progress.complete() && this.firstAttempt > 1) {
      const ok = (await this.reports(this.firstAttempt - 1)).find((r) => r.status === 'ok');
      if (ok !== undefined) return { kind: 'done', meta: new Map(Object.entries(ok.meta)), attempts: 0 };
    }
    return this.another(staged);
  }

  private async create({ attempt, staged }: Extract<RemoteState, { kind: 'creating' }>): Promise<RemoteState> {
    const { step, key, target, services, emit } = this.parts;
    if (this.losses >= target.maxAttempts)
      throw new StepError(
        `${step.id}: the TPU was lost ${target.maxAttempts} times with ${this.progress.describeLeft()}`,
        'run again to continue from what is finished, or raise max_attempts / use spot: false',
      );
    const nodeId = this.nodeId(attempt);
    await this.progress.collect(); // what the previous node finished before it was deleted
    const work = await this.progress.work();
    const what = target.replicas > 1 ? `one of the ${target.label}, ${nodeId},` : `${target.label} node ${nodeId}`;
    this.log(`creating ${what} (attempt ${attempt}) with ${this.progress.describeLeft()}`);
    emit({ kind: 'step-attempt', step: step.id, attempt, node: nodeId, shards: this.progress.todo(), time: this.time() });
    try {
      await services.nodes.create({
        id: nodeId,
        acceleratorType: target.acceleratorType,
        runtimeVersion: target.runtimeVersion,
        spot: target.spot,
        metadata: {
          [NODE_METADATA.startupScript]: staged.launcher,
          [NODE_METADATA.job]: `${services.bucket.uri}/${layout.attempt(key, attempt)}`,
        },
        labels: {
          [MANAGED_LABEL.key]: MANAGED_LABEL.value,
          'strand-workflow': labelValue(this.parts.workflowName),
          'strand-step': labelValue(step.id),
          'strand-key': key.slice(0, 16),
        },
      });
    } catch (error) {
      await this.deleteNode(nodeId); // a refused create may still have left a node or a queued resource
      throw error;
    }
    return { kind: 'waiting-ready', attempt, nodeId, work, staged };
  }

  private async waitReady(state: Extract<RemoteState, { kind: 'waiting-ready' }>): Promise<RemoteState> {
    const { step, key, target, services } = this.parts;
    const { signal } = this;
    const { attempt, nodeId, work, staged } = state;
    if (this.notNeeded(nodeId)) return { kind: 'finished', attempt, nodeId, meta: new Map() };
    const node = await services.nodes.get(nodeId);
    if (node !== undefined && isReady(node)) {
      const jax = this.parts.job;
      const spec: JobSpec = {
        schema: 1,
        key,
        attempt,
        root: services.bucket.uri,
        projectId: target.project,
        workers: node.workers,
        // A host writes its progress object no more often than the engine reads it.
        progressSeconds: services.pollMs / 1000,
        // A JAX step sends its job, never its params: the job is what changes the numbers, checked by one schema.
        step: { id: step.id, uses: step.plugin.id, version: step.plugin.version, ...(jax === undefined ? { params: step.params } : {}) },
        ...(jax !== undefined ? { job: jax } : {}),
        files: staged.files,
        inputs: this.manifests,
        outputs: Object.fromEntries(Object.entries(step.plugin.outputs).map(([p, s]) => [p, s.type])),
        ...work,
        placement: target.placement,
      };
      const checked = checkRuntimeValue<JobSpec>('workerContract', 'JobSpec', spec);
      if (!checked.ok) throw new Error(`bug: the engine built an invalid job spec: ${checked.error}`);
      await services.bucket.putJsonIfAbsent(layout.attempt(key, attempt), checked.value);
      this.log(`${nodeId} is READY with ${node.workers} host${node.workers === 1 ? '' : 's'}; following its progress`);
      return { kind: 'running', attempt, node, lastProgress: services.clock.now().getTime(), reported: 0, staged };
    }
    const lost = node === undefined ? undefined : lostState(node);
    if (lost !== undefined) throw new Error(`TPU ${nodeId} went ${lost} before it was ready`);
    if (signal.aborted) throw new StepInterrupted(); // the node being created is deleted on the way out
    await services.clock.sleep(services.pollMs);
    return state;
  }

  private async poll(state: Extract<RemoteState, { kind: 'running' }>): Promise<RemoteState> {
    const { target, services } = this.parts;
    const { attempt, node, staged } = state;
    if (this.signal.aborted) throw new StepInterrupted();
    const landed = await this.progress.collect();
    const reports = await this.reports(attempt);
    const lastProgress = landed > 0 || reports.length > state.reported ? services.clock.now().getTime() : state.lastProgress;
    const stall = this.progress.stallMinutes(target.stallMinutes);
    if (services.clock.now().getTime() - lastProgress > stall * 60_000) {
      throw new StepError(
        `no marker landed and no host reported on ${node.id} for ${stall} min (${node.workers - reports.length} of ${node.workers} hosts silent)`,
        `check the hosts' startup-script output (gcloud compute tpus tpu-vm get-serial-port-output ${node.id} --zone ${target.zone}), worker_command and the image; what finished is kept (marked shards, complete checkpoints), so run again after the fix`,
      );
    }
    const failed = reports.find((r) => r.status === 'failed');
    if (failed !== undefined) throw new StepError(`worker ${failed.worker} on ${node.id} failed: ${failed.message ?? 'no message'}`);
    const first = reports[0];
    if (reports.length === node.workers && first !== undefined) {
      await this.progress.collect();
      return { kind: 'finished', attempt, nodeId: node.id, meta: new Map(Object.entries(first.meta)) };
    }
    if (this.notNeeded(node.id)) return { kind: 'finished', attempt, nodeId: node.id, meta: new Map() };
    const current = await services.nodes.get(node.id);
    const lost = current === undefined ? 'DELETED' : lostState(current);
    if (lost !== undefined) return { kind: 'lost', attempt, nodeId: node.id, state: lost, staged };
    await services.clock.sleep(services.pollMs);
    return { ...state, lastProgress, reported: reports.length };
  }

  private async recreate({ attempt, nodeId, state, staged }: Extract<RemoteState, { kind: 'lost' }>): Promise<RemoteState> {
    const { step, emit } = this.parts;
    await this.progress.collect(); // what landed between the last poll's collect and the node's loss
    this.losses++;
    // A replacement boots (minutes on Cloud TPU) while the other nodes' hosts compute: it pays only while more
    // shards are left than they take in one round. The last node is replaced until the outputs and a report are home.
    const others = (this.active - 1) * this.parts.target.hosts;
    const retire = others > 0 ? this.progress.todo() <= others : this.progress.complete() && this.reportedOk;
    this.log(
      `${nodeId} was ${state} with ${this.progress.describeLeft()}; ${retire ? 'the other nodes take what it left' : 'recreating it'}`,
    );
    emit({ kind: 'step-preempted', step: step.id, attempt, node: nodeId, state, time: this.time() });
    await this.deleteNode(nodeId);
    const released = await this.releaseClaims(attempt);
    if (released > 0) this.log(`released ${released} shard claim${released === 1 ? '' : 's'} of ${nodeId}`);
    return retire ? { kind: 'done', meta: new Map(), attempts: 0 } : this.another(staged);
  }

  private async finish({ nodeId, meta }: Extract<RemoteState, { kind: 'finished' }>): Promise<RemoteState> {
    this.reportedOk = true;
    if (this.parts.target.keep) this.log(`kept ${nodeId} (keep: true); delete it with \`strand tpu delete\``);
    else await this.deleteNode(nodeId);
    return { kind: 'done', meta, attempts: this.nodesCreated() };
  }

  /** Every shard home and another node's report holds the meta: a node still booting or running can only find nothing left. */
  private notNeeded(nodeId: string): boolean {
    if (!this.progress.complete() || !this.reportedOk) return false;
    this.log(`every shard is home; ${nodeId} is not needed any more`);
    return true;
  }

  /** Nodes this run created, over every slot. */
  nodesCreated(): number {
    return this.nextAttempt - this.firstAttempt;
  }

  summary(attempts: number): StepSummary {
    return this.progress.summary(this.parts.target.label, attempts);
  }
}

/**
 * Runs a shard-parallel step on the slice. A step the JAX worker runs gets its job from its plugin, and
 * its outputs' meta from its plugin too, as when it runs here: the hosts report only what the runtime found
 * (the vectors' dimension).
 */
export async function runRemoteStep(parts: RemoteStepParts): Promise<RemoteStepResult> {
  const manifests = inputManifests(parts);
  const facts = parts.step.plugin.jax;
  if (facts?.shardJob === undefined || facts.outputMeta === undefined)
    return runRemoteJob(parts, manifests, shardProgress(parts, manifests));
  const metas = Object.fromEntries(Object.entries(manifests).map(([port, m]) => [port, m.meta]));
  const job = facts.shardJob(parts.step.params, metas, parts.target.run);
  const result = await runRemoteJob({ ...parts, job }, manifests, shardProgress(parts, manifests));
  const reported = Object.assign({}, ...result.meta.values()) as { dim?: number };
  const meta = facts.outputMeta(job, metas, reported, parts.fileDigest(job.model));
  return { ...result, meta: new Map(Object.entries(meta)) };
}

/** Runs a step of another job kind (a training job) on the slice; `progress` brings its outputs home. */
export async function runRemoteJob(
  parts: RemoteStepParts,
  manifests: Record<string, ArtifactManifest>,
  progress: JobProgress,
): Promise<RemoteStepResult> {
  const machine = new RemoteStepMachine(parts, manifests, progress);
  const start: RemoteState = { kind: 'checking' };
  parts.onState?.(start);
  const first = await drive(machine, start, parts, (s) => s.kind === 'creating');
  if (first.kind === 'done') return { meta: first.meta, summary: machine.summary(first.attempts) };
  if (first.kind !== 'creating') throw new Error(`bug: the remote executor stopped in ${first.kind}`);
  // The node slots, created together: the first slot's node is the attempt resuming chose.
  let slots: RemoteState[] = [first, ...Array.from({ length: parts.target.replicas - 1 }, () => machine.another(first.staged))];
  const done: Extract<RemoteState, { kind: 'done' }>[] = [];
  for (;;) {
    machine.active = slots.length;
    const ends = await Promise.allSettled(
      slots.map(async (slot) => {
        try {
          return await drive(machine, slot, parts, () => false);
        } catch (error) {
          machine.halt();
          throw error;
        } finally {
          machine.active--;
        }
      }),
    );
    const failures = ends.flatMap((e) => (e.status === 'rejected' ? [e.reason as unknown] : []));
    // A slot stopped because another failed reports the other's cause, not its own interruption.
    if (failures.length > 0) throw failures.find((f) => !(f instanceof StepInterrupted)) ?? failures[0];
    done.push(...ends.flatMap((e) => (e.status === 'fulfilled' && e.value.kind === 'done' ? [e.value] : [])));
    await progress.collect();
    const orphaned = progress.complete() ? [] : await machine.orphaned();
    if (orphaned.length === 0) break;
    const one = orphaned.length === 1;
    machine.log(
      `${one ? 'shard' : 'shards'} ${orphaned.join(', ')} ${one ? 'was' : 'were'} released after every other host stopped claiming; creating a node for ${one ? 'it' : 'them'}`,
    );
    slots = [machine.another(first.staged)];
  }
  if (!progress.complete()) throw new StepError(`the workers finished, but ${progress.describeMissing()}`);
  const meta = done.find((d) => d.meta.size > 0)?.meta ?? new Map<string, ArtifactMeta>();
  return { meta, summary: machine.summary(machine.nodesCreated()) };
}

/** Runs `state` on until `done` or `until` holds; a failure deletes the node the failing state held. */
async function drive(
  machine: RemoteStepMachine,
  state: RemoteState,
  parts: RemoteStepParts,
  until: (state: RemoteState) => boolean,
): Promise<RemoteState> {
  while (state.kind !== 'done' && !until(state)) {
    const from: RemoteState = state;
    try {
      state = await machine.next(from);
    } catch (error) {
      const nodeId = machine.nodeOf(from);
      if (nodeId !== undefined) await machine.deleteNode(nodeId);
      throw error;
    }
    if (state.kind !== from.kind) parts.onState?.(state);
  }
  return state;
}
