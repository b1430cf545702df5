// The remote executor's state machine (engine/cloud/run-remote-step.ts), for shards and for a training job
// (engine/cloud/run-remote-training.ts), driven without servers: the
// bucket and the TPU API are in-memory doubles of its small interfaces (remote-services.ts), the clock
// is moved by the executor's own waits, and the hosts are a script the test runs at each wait. The local
// store and checkpoint log are the engine's own, in a temp folder.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RemoteClock, NodeService, StagingBucket } from '../../engine/cloud/remote-services.js';
import type { RemoteTarget } from '../../engine/cloud/remote-target.js';
import { runRemoteStep, type RemoteState } from '../../engine/cloud/run-remote-step.js';
import type { NodeRequest, TpuNode } from '../../engine/cloud/tpu-nodes.js';
import { remoteTrainer } from '../../engine/cloud/run-remote-training.js';
import {
  layout,
  type CheckpointMarker,
  type JobSpec,
  type OutputsMarker,
  type HostProgress,
  type ShardClaim,
  type ShardMarker,
  type WorkerReport,
} from '../../engine/cloud/worker-contract.js';
import type { JaxEvent, TrainJob, TrainPaths } from '../../engine/index.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import type { ArtifactManifest } from '../../engine/plan/step-record.js';
import { StepInterrupted } from '../../engine/run/step-context.js';
import { CheckpointLog } from '../../engine/store/checkpoint-log.js';
import { ObjectStore } from '../../engine/store/object-store.js';
import { sha256, type Sha256Hex } from '../../engine/util/sha256.js';
import type { StepSpec } from '../../engine/workflow/workflow.js';
import { charTokenize } from '../../steps/tokenize/char.js';
import { ntLora } from '../../steps/finetune/nt-lora.js';

const KEY = sha256('remote-step-machine');
const NODE = (attempt: number): string => `strand-${KEY.slice(0, 12)}-${attempt}`;
const POLL_MS = 10_000;
const SHARDS = 4;

class MemoryBucket implements StagingBucket {
  readonly location = { bucket: 'b', prefix: 'strand' };
  readonly uri = 'gs://b/strand';
  readonly objects = new Map<string, Buffer>();
  readonly writes: string[] = [];

  exists = async (): Promise<boolean> => true;
  list = async (prefix: string): Promise<string[]> => [...this.objects.keys()].filter((n) => n.startsWith(prefix)).sort();
  get = async (name: string): Promise<Buffer | undefined> => this.objects.get(name);
  getJson = async <T>(name: string): Promise<T | undefined> => {
    const bytes = this.objects.get(name);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString()) as T);
  };
  putIfAbsent = async (name: string, bytes: Uint8Array): Promise<'written' | 'exists'> => {
    if (this.objects.has(name)) return 'exists';
    this.objects.set(name, Buffer.from(bytes));
    this.writes.push(name);
    return 'written';
  };
  putJsonIfAbsent = (name: string, value: unknown): Promise<'written' | 'exists'> =>
    this.putIfAbsent(name, Buffer.from(JSON.stringify(value)));
  uploadFileIfAbsent = async (): Promise<'written' | 'exists'> => {
    throw new Error('this step stages no files');
  };
  delete = async (name: string): Promise<void> => {
    this.objects.delete(name);
  };
  job(attempt: number): JobSpec | undefined {
    const bytes = this.objects.get(layout.attempt(KEY, attempt));
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString()) as JobSpec);
  }
}

class MemoryNodes implements NodeService {
  readonly nodes = new Map<string, TpuNode>();
  readonly calls: string[] = [];
  /** Looks at a new node before it is READY. */
  readyAfter = 2;
  /** Hosts a node has once READY. */
  hosts = 2;
  private readonly looks = new Map<string, number>();

  checkAccess = async (): Promise<void> => {};
  list = async (): Promise<TpuNode[]> => [...this.nodes.values()];
  create = async (request: NodeRequest): Promise<void> => {
    this.calls.push(`create ${request.id}`);
    this.nodes.set(request.id, {
      id: request.id,
      state: 'CREATING',
      acceleratorType: request.acceleratorType,
      workers: 0,
      labels: request.labels,
    });
  };
  get = async (id: string): Promise<TpuNode | undefined> => {
    const node = this.nodes.get(id);
    const looks = (this.looks.get(id) ?? 0) + 1;
    this.looks.set(id, looks);
    if (node?.state === 'CREATING' && looks > this.readyAfter) Object.assign(node, { state: 'READY', workers: this.hosts });
    return node === undefined ? undefined : { ...node };
  };
  delete = async (id: string): Promise<void> => {
    if (this.nodes.delete(id)) this.calls.push(`delete ${id}`);
  };
  preempt(id: string): void {
    const node = this.nodes.get(id);
    if (node !== undefined) node.state = 'PREEMPTED';
  }
}

/** A clock that moves only when the executor waits; `onWait` plays the hosts at each wait. */
class StepClock implements RemoteClock {
  time = Date.UTC(2026, 0, 1);
  onWait: () => Promise<void> = async () => {};
  now = (): Date => new Date(this.time);
  sleep = async (ms: number): Promise<void> => {
    this.time += ms;
    await this.onWait();
  };
}

/** What a host does for a shard: its vector bytes, an object by digest, then its marker. */
async function finishShard(bucket: MemoryBucket, job: JobSpec, index: number, worker: number): Promise<void> {
  const bytes = Buffer.from(`tokens of shard ${index}`);
  await bucket.putIfAbsent(layout.object(sha256(bytes)), bytes);
  const marker: ShardMarker = { port: 'tokens', index, object: sha256(bytes), rows: 10 + index, attempt: job.attempt, worker };
  await bucket.putJsonIfAbsent(layout.marker(KEY, 'tokens', index), marker);
}

async function report(
  bucket: MemoryBucket,
  job: JobSpec,
  worker: number,
  status: WorkerReport['status'] = 'ok',
  message?: string,
): Promise<void> {
  const value: WorkerReport = {
    attempt: job.attempt,
    worker,
    status,
    meta: status === 'ok' ? { tokens: { vocab: 'char' } } : {},
    produced: 0,
    ...(message ? { message } : {}),
  };
  await bucket.putJsonIfAbsent(layout.report(KEY, job.attempt, worker), value);
}

/** Both hosts run every shard of the job they find, then report ok. */
const healthyHosts = (bucket: MemoryBucket) => async (attempt: number) => {
  const job = bucket.job(attempt);
  if (job === undefined || bucket.objects.has(layout.report(KEY, attempt, 0))) return;
  for (const [position, index] of job.shards.entries()) await finishShard(bucket, job, index, position % 2);
  await report(bucket, job, 0);
  await report(bucket, job, 1);
};

let dir: string;
let objects: ObjectStore;
let bucket: MemoryBucket;
let nodes: MemoryNodes;
let clock: StepClock;
let inputs: Record<string, Sha256Hex>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strand-remote-'));
  objects = new ObjectStore(join(dir, 'objects'));
  const shards = Array.from({ length: SHARDS }, (_, index) => ({ index, digest: objects.put(`sequences ${index}`), rows: 10 + index }));
  const manifest: ArtifactManifest = { schema: 1, type: 'sequences', shards, meta: {} };
  inputs = { sequences: objects.putJson(manifest) };
  bucket = new MemoryBucket();
  nodes = new MemoryNodes();
  clock = new StepClock();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const step: StepSpec = {
  id: 'tokens',
  uses: 'tokenize/char',
  plugin: charTokenize,
  needs: ['source'],
  with: {},
  params: {},
  keyParams: {},
  inputs: { sequences: { step: 'source', port: 'sequences' } },
  placement: { on: 'pod' },
};

function target(extra: Partial<RemoteTarget> = {}): RemoteTarget {
  return {
    name: 'pod',
    label: 'tpu v4-16',
    acceleratorType: 'v4-16',
    project: 'p',
    zone: 'us-central2-b',
    bucket: 'gs://b/strand',
    spot: true,
    keep: false,
    runtimeVersion: 'tpu-ubuntu2204-base',
    workerCommand: 'strand',
    worker: 'node',
    replicas: 1,
    hosts: 2,
    chipsPerHost: 4,
    oneProgram: false,
    maxAttempts: 3,
    stallMinutes: 30,
    placement: { device: 'tpu v4-16', mesh: { data: 8, fsdp: 1, tp: 1 }, perDeviceBatch: 4, globalBatch: 32, precision: 'bf16' },
    run: {
      device: 'tpu v4-16',
      kind: 'tpu',
      runtime: 'onnx',
      hosts: 2,
      mesh: { data: 8, fsdp: 1, tp: 1 },
      perDeviceBatch: 4,
      globalBatch: 32,
      precision: 'bf16',
    },
    ...extra,
  };
}

async function run(options: { target?: RemoteTarget; signal?: AbortSignal } = {}) {
  const states: RemoteState['kind'][] = [];
  const events: RunEvent[] = [];
  const checkpoints = new CheckpointLog(join(dir, 'checkpoints'), KEY);
  const result = runRemoteStep({
    step,
    key: KEY,
    workflowName: 'flow',
    target: options.target ?? target(),
    inputs,
    objects,
    checkpoints,
    workdir: dir,
    listing: undefined,
    fileDigest: () => undefined,
    services: { bucket, nodes, clock, pollMs: POLL_MS },
    emit: (e) => events.push(e),
    signal: options.signal ?? new AbortController().signal,
    onState: (s) => states.push(s.kind),
  });
  return { result, states, events, checkpoints, logs: () => events.flatMap((e) => (e.kind === 'step-log' ? [e.message] : [])) };
}

describe('remote step state machine', () => {
  it('creates a node, waits for READY, follows the hosts to the end and deletes the node', async () => {
    clock.onWait = async () => healthyHosts(bucket)(1);
    const { result, states, checkpoints, logs } = await run();
    const done = await result;
    expect(states).toEqual(['checking', 'staging', 'resuming', 'creating', 'waiting-ready', 'running', 'finished', 'done']);
    expect(nodes.calls).toEqual([`create ${NODE(1)}`, `delete ${NODE(1)}`]);
    // The job spec is written only once the node is READY, with the hosts it has.
    expect(bucket.job(1)).toMatchObject({
      attempt: 1,
      workers: 2,
      shards: [0, 1, 2, 3],
      inputs: { sequences: { shards: expect.any(Array) } },
    });
    expect(done.meta.get('tokens')).toEqual({ vocab: 'char' });
    expect(done.summary).toEqual({ device: 'tpu v4-16', shards: 4, rows: 10 + 11 + 12 + 13, attempts: 1 });
    expect([...checkpoints.entries.keys()].sort()).toEqual(['output:tokens:0', 'output:tokens:1', 'output:tokens:2', 'output:tokens:3']);
    expect(logs()).toContain(`${NODE(1)} is READY with 2 hosts; following its progress`);
    // Every input shard was staged by content.
    expect(bucket.writes.filter((n) => n.startsWith('objects/')).length).toBeGreaterThanOrEqual(SHARDS);
  });

  it('recreates a preempted node for exactly the shards without a marker', async () => {
    clock.onWait = async () => {
      const first = bucket.job(1);
      if (first !== undefined && bucket.job(2) === undefined && nodes.nodes.get(NODE(1))?.state === 'READY') {
        await finishShard(bucket, first, 0, 0);
        await finishShard(bucket, first, 2, 0);
        nodes.preempt(NODE(1));
      }
      await healthyHosts(bucket)(2);
    };
    const { result, states, events } = await run();
    const done = await result;
    expect(states).toEqual([
      'checking',
      'staging',
      'resuming',
      'creating',
      'waiting-ready',
      'running',
      'lost',
      'creating',
      'waiting-ready',
      'running',
      'finished',
      'done',
    ]);
    expect(nodes.calls).toEqual([`create ${NODE(1)}`, `delete ${NODE(1)}`, `create ${NODE(2)}`, `delete ${NODE(2)}`]);
    expect(bucket.job(2)?.shards).toEqual([1, 3]);
    expect(events.filter((e) => e.kind === 'step-preempted')).toMatchObject([{ attempt: 1, node: NODE(1), state: 'PREEMPTED' }]);
    expect(done.summary.attempts).toBe(2);
  });

  it('fails once max_attempts nodes were lost, naming what is left', async () => {
    clock.onWait = async () => {
      for (const node of nodes.nodes.values()) if (node.state === 'READY') nodes.preempt(node.id);
    };
    const { result, states } = await run({ target: target({ maxAttempts: 2 }) });
    await expect(result).rejects.toThrow('tokens: the TPU was lost 2 times with 4 of 4 shards to do');
    expect(states.filter((s) => s === 'lost')).toHaveLength(2);
    expect(nodes.nodes.size).toBe(0);
  });

  it('fails a node whose hosts stay silent for stall_minutes, and deletes it', async () => {
    const { result, states } = await run();
    await expect(result).rejects.toThrow(`no marker landed and no host reported on ${NODE(1)} for 30 min (2 of 2 hosts silent)`);
    expect(states.at(-1)).toBe('running');
    expect(nodes.calls).toEqual([`create ${NODE(1)}`, `delete ${NODE(1)}`]);
  });

  it('holds off the stall while shards keep landing', async () => {
    let next = 0;
    // One shard every 20 minutes: slower than stall_minutes in total, never silent for 30.
    clock.onWait = async () => {
      const job = bucket.job(1);
      if (job === undefined || next >= SHARDS || clock.time % (20 * 60_000) >= POLL_MS) return;
      await finishShard(bucket, job, next++, 0);
      if (next === SHARDS) for (const worker of [0, 1]) await report(bucket, job, worker);
    };
    const { result } = await run();
    expect((await result).summary.shards).toBe(SHARDS);
    expect(clock.time - Date.UTC(2026, 0, 1)).toBeGreaterThan(60 * 60_000);
  });

  it('fails with the message of a host that reports failed, and deletes the node', async () => {
    clock.onWait = async () => {
      const job = bucket.job(1);
      if (job !== undefined) await report(bucket, job, 1, 'failed', 'no space left on device');
    };
    const { result } = await run();
    await expect(result).rejects.toThrow(`worker 1 on ${NODE(1)} failed: no space left on device`);
    expect(nodes.nodes.size).toBe(0);
  });

  it('fails when every host reported ok and shards have no marker, deleting the node', async () => {
    clock.onWait = async () => {
      const job = bucket.job(1);
      if (job === undefined || bucket.objects.has(layout.report(KEY, 1, 0))) return;
      await finishShard(bucket, job, 0, 0);
      await report(bucket, job, 0);
      await report(bucket, job, 1);
    };
    const { result } = await run();
    await expect(result).rejects.toThrow('the workers finished, but shards 1, 2, 3 have no marker');
    expect(nodes.nodes.size).toBe(0);
  });

  it('keeps the node with keep: true', async () => {
    clock.onWait = async () => healthyHosts(bucket)(1);
    const { result, logs } = await run({ target: target({ keep: true }) });
    await result;
    expect(nodes.calls).toEqual([`create ${NODE(1)}`]);
    expect(logs()).toContain(`kept ${NODE(1)} (keep: true); delete it with \`strand tpu delete\``);
  });

  it('stops when the run is stopped while the hosts work, deleting the node; finished shards stay marked in the bucket', async () => {
    const stop = new AbortController();
    clock.onWait = async () => {
      const job = bucket.job(1);
      if (job === undefined) return;
      await finishShard(bucket, job, 0, 0);
      stop.abort();
    };
    const { result, checkpoints } = await run({ signal: stop.signal });
    await expect(result).rejects.toBeInstanceOf(StepInterrupted);
    expect(nodes.nodes.size).toBe(0);
    expect(checkpoints.entries.size).toBe(0);
    expect(bucket.objects.has(layout.marker(KEY, 'tokens', 0))).toBe(true); // the next run collects it
  });

  it('resumes: deletes the node a killed engine left, and ends without a node when every shard has landed', async () => {
    clock.onWait = async () => healthyHosts(bucket)(1);
    await (
      await run({ target: target({ keep: true }) })
    ).result;
    expect(nodes.nodes.size).toBe(1); // as a killed engine leaves it
    const again = await run();
    const done = await again.result;
    expect(again.states).toEqual(['checking', 'staging', 'resuming', 'done']);
    expect(again.logs()).toContain(`deleting TPU ${NODE(1)}, left by an earlier run (READY)`);
    expect(nodes.nodes.size).toBe(0);
    expect(again.events.filter((e) => e.kind === 'shard-resumed')).toHaveLength(SHARDS);
    expect(done).toMatchObject({ meta: new Map([['tokens', { vocab: 'char' }]]), summary: { attempts: 0 } });
  });

  it('fails a node lost before it is READY, and deletes it', async () => {
    nodes.readyAfter = Infinity;
    clock.onWait = async () => nodes.preempt(NODE(1));
    const { result, states } = await run();
    await expect(result).rejects.toThrow(`TPU ${NODE(1)} went PREEMPTED before it was ready`);
    expect(states.at(-1)).toBe('waiting-ready');
    expect(nodes.nodes.size).toBe(0);
  });
});

/** The attempt a node runs (its id ends in it). */
const attemptOf = (node: TpuNode): number => Number(node.id.split('-').pop());

/**
 * The one host of every READY node (not in `frozen`) claims the next shard without a marker or a claim and
 * finishes it, one shard a wait; a host that finds none left reports ok.
 */
async function claimingHosts(frozen: ReadonlySet<number> = new Set()): Promise<void> {
  for (const node of nodes.nodes.values()) {
    const job = bucket.job(attemptOf(node));
    if (node.state !== 'READY' || job === undefined || frozen.has(job.attempt)) continue;
    if (bucket.objects.has(layout.report(KEY, job.attempt, 0))) continue;
    const free = job.shards.find((i) => !bucket.objects.has(layout.marker(KEY, 'tokens', i)) && !bucket.objects.has(layout.claim(KEY, i)));
    if (free === undefined) await report(bucket, job, 0);
    else if ((await bucket.putJsonIfAbsent(layout.claim(KEY, free), { index: free, attempt: job.attempt, worker: 0 })) === 'written')
      await finishShard(bucket, job, free, 0);
  }
}

const markerOf = (index: number): ShardMarker =>
  JSON.parse(bucket.objects.get(layout.marker(KEY, 'tokens', index))!.toString()) as ShardMarker;

const claimOf = (index: number): ShardClaim | undefined => {
  const bytes = bucket.objects.get(layout.claim(KEY, index));
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString()) as ShardClaim);
};

describe('remote step state machine, replicas: 3', () => {
  beforeEach(() => {
    nodes.hosts = 1;
  });
  const three = (extra: Partial<RemoteTarget> = {}) => target({ replicas: 3, worker: 'jax', ...extra });

  it('creates the nodes together, gives each every shard, and deletes each once its hosts report', async () => {
    clock.onWait = () => claimingHosts();
    const { result, events } = await run({ target: three() });
    const done = await result;
    expect(nodes.calls.slice(0, 3)).toEqual([1, 2, 3].map((a) => `create ${NODE(a)}`));
    expect(nodes.calls.slice(3).sort()).toEqual([1, 2, 3].map((a) => `delete ${NODE(a)}`));
    expect([1, 2, 3].map((a) => bucket.job(a)?.shards)).toEqual([1, 2, 3].map(() => [0, 1, 2, 3]));
    // Four shards over three hosts that claim one at a time: each shard computed once, by its claim's holder.
    for (let i = 0; i < SHARDS; i++) expect(claimOf(i)?.attempt).toBe(markerOf(i).attempt);
    for (const a of [1, 2, 3]) expect(bucket.objects.has(layout.report(KEY, a, 0))).toBe(true);
    expect(events.filter((e) => e.kind === 'step-attempt')).toHaveLength(3);
    expect(done.summary).toMatchObject({ shards: 4, attempts: 3 });
    expect(done.meta.get('tokens')).toEqual({ vocab: 'char' });
  });

  it('releases a lost node’s claim on an unmarked shard, keeps its marked ones, and replaces it', async () => {
    let lost = false;
    clock.onWait = async () => {
      const second = bucket.job(2);
      if (!lost && second !== undefined && nodes.nodes.get(NODE(2))?.state === 'READY') {
        // Node 2 finishes shard 0, claims shard 3, and is preempted before it computes it.
        await bucket.putJsonIfAbsent(layout.claim(KEY, 0), { index: 0, attempt: 2, worker: 0 });
        await finishShard(bucket, second, 0, 0);
        await bucket.putJsonIfAbsent(layout.claim(KEY, 3), { index: 3, attempt: 2, worker: 0 });
        nodes.preempt(NODE(2));
        lost = true;
      }
      await claimingHosts(new Set([2]));
    };
    const { result, logs, events } = await run({ target: three() });
    const done = await result;
    expect(logs()).toContain(`released 1 shard claim of ${NODE(2)}`);
    expect(events.filter((e) => e.kind === 'step-preempted')).toMatchObject([{ attempt: 2, node: NODE(2) }]);
    expect(nodes.calls).toContain(`create ${NODE(4)}`);
    expect(nodes.calls.indexOf(`create ${NODE(4)}`)).toBeGreaterThan(nodes.calls.indexOf(`delete ${NODE(2)}`));
    expect(bucket.job(4)?.shards).not.toContain(0);
    expect(claimOf(0)).toEqual({ index: 0, attempt: 2, worker: 0 });
    expect(claimOf(3)?.attempt).not.toBe(2);
    expect(markerOf(3).attempt).toBe(claimOf(3)?.attempt);
    expect(nodes.nodes.size).toBe(0);
    expect(done.summary).toMatchObject({ shards: 4, attempts: 4 });
  });

  it('does not replace a node lost once every shard is home and another node reports', async () => {
    clock.onWait = async () => {
      await claimingHosts(new Set([3]));
      if ([0, 1, 2, 3].every((i) => bucket.objects.has(layout.marker(KEY, 'tokens', i)))) nodes.preempt(NODE(3));
    };
    const { result, logs } = await run({ target: three() });
    await result;
    expect(logs()).toContain(`${NODE(3)} was PREEMPTED with 0 of 4 shards to do; the other nodes take what it left`);
    expect(nodes.calls.filter((c) => c.startsWith('create'))).toHaveLength(3);
    expect(nodes.nodes.size).toBe(0);
  });

  it('leaves a lost node’s last shard to the others, and creates a node for it when their hosts had stopped claiming', async () => {
    let preempted = false;
    clock.onWait = async () => {
      // Node 3 holds shard 3 from the start and never computes it; nodes 1 and 2 take the rest and report.
      if (!preempted) await bucket.putJsonIfAbsent(layout.claim(KEY, 3), { index: 3, attempt: 3, worker: 0 });
      await claimingHosts(new Set([3]));
      const reported = [1, 2].every((a) => bucket.objects.has(layout.report(KEY, a, 0)));
      if (!preempted && reported && nodes.nodes.get(NODE(3))?.state === 'READY') {
        nodes.preempt(NODE(3));
        preempted = true;
      }
    };
    const { result, logs } = await run({ target: three() });
    const done = await result;
    expect(logs()).toContain(`${NODE(3)} was PREEMPTED with 1 of 4 shards to do; the other nodes take what it left`);
    expect(logs()).toContain('shard 3 was released after every other host stopped claiming; creating a node for it');
    expect(markerOf(3).attempt).toBe(4);
    expect(nodes.calls.filter((c) => c.startsWith('create'))).toHaveLength(4);
    expect(nodes.nodes.size).toBe(0);
    expect(done.summary).toMatchObject({ shards: 4, attempts: 4 });
  });

  it('brings the hosts’ live progress to step-progress events, and drops a lost node’s progress object', async () => {
    let lost = false;
    clock.onWait = async () => {
      const second = bucket.job(2);
      if (!lost && second !== undefined && nodes.nodes.get(NODE(2))?.state === 'READY') {
        // Both hosts are half-way through a shard; node 2 is then preempted.
        for (const [attempt, tokens] of [
          [1, 4000],
          [2, 6000],
        ] as const) {
          const progress: HostProgress = { attempt, worker: 0, running: true, shard: 0, shards: 0, rows: 10, tokens, seconds: 2 };
          await bucket.putJsonIfAbsent(layout.attemptProgress(KEY, attempt) + '0.json', progress);
        }
        nodes.preempt(NODE(2));
        lost = true;
        return;
      }
      if (lost) await claimingHosts();
    };
    const { result, events } = await run({ target: three() });
    await result;
    const live = events.flatMap((e) => (e.kind === 'step-progress' && e.values !== undefined ? [e] : []));
    // Both hosts: 2,000 + 3,000 tokens/s; 46 rows left (shards of 10 to 13 rows) at 5 + 5 rows/s.
    expect(live[0]).toMatchObject({ values: { 'tokens/s': 5000 }, etaSeconds: 4.6 });
    // Once node 2 is lost its progress object is gone: node 1's host alone.
    expect(live.at(-1)).toMatchObject({ values: { 'tokens/s': 2000 } });
    expect(bucket.objects.has(layout.attemptProgress(KEY, 2) + '0.json')).toBe(false);
  });

  it('deletes a node that has not reported once every shard is home and another node reported', async () => {
    clock.onWait = () => claimingHosts(new Set([3])); // node 3's host never starts
    const { result, logs } = await run({ target: three() });
    await result;
    expect(logs()).toContain(`every shard is home; ${NODE(3)} is not needed any more`);
    expect(nodes.nodes.size).toBe(0);
    expect(bucket.objects.has(layout.report(KEY, 3, 0))).toBe(false);
  });

  it('stops every node when one fails, with that node’s cause, and deletes them all', async () => {
    clock.onWait = async () => {
      const job = bucket.job(2);
      if (job !== undefined) await report(bucket, job, 0, 'failed', 'out of memory');
    };
    const { result } = await run({ target: three() });
    await expect(result).rejects.toThrow(`worker 0 on ${NODE(2)} failed: out of memory`);
    expect(nodes.nodes.size).toBe(0);
    expect(nodes.calls.filter((c) => c.startsWith('delete')).sort()).toEqual([1, 2, 3].map((a) => `delete ${NODE(a)}`));
  });

  it('deletes every node when the run is stopped', async () => {
    const stop = new AbortController();
    clock.onWait = async () => {
      if ([1, 2, 3].every((a) => bucket.job(a) !== undefined)) stop.abort();
    };
    const { result } = await run({ target: three(), signal: stop.signal });
    await expect(result).rejects.toBeInstanceOf(StepInterrupted);
    expect(nodes.nodes.size).toBe(0);
    expect(nodes.calls.filter((c) => c.startsWith('delete'))).toHaveLength(3);
  });

  it('releases every claim when a run starts: the nodes of an earlier run are gone', async () => {
    await bucket.putJsonIfAbsent(layout.claim(KEY, 1), { index: 1, attempt: 7, worker: 0 });
    clock.onWait = () => claimingHosts();
    await (
      await run({ target: three() })
    ).result;
    // Had the stale claim stayed, no host would compute shard 1 and the run would fail for want of its marker.
    expect(claimOf(1)?.attempt).toBe(markerOf(1).attempt);
  });
});

/** What host 0 of a training job does at a checkpoint: its files as objects by digest, then (if `marked`) the marker. */
async function writeCheckpoint(bucket: MemoryBucket, job: JobSpec, step: number, marked = true): Promise<void> {
  const bytes = Buffer.from(`state at step ${step}`);
  await bucket.putIfAbsent(layout.object(sha256(bytes)), bytes);
  if (!marked) return;
  const files = [{ path: `${step}/state/data`, object: sha256(bytes), size: bytes.length }];
  const marker: CheckpointMarker = { step, total: 6, attempt: job.attempt, worker: 0, files };
  await bucket.putJsonIfAbsent(layout.checkpoint(KEY, step), marker);
}

/** Host 0 ends a training job: the out/ files, the outputs marker, its report. */
async function finishTraining(bucket: MemoryBucket, job: JobSpec): Promise<void> {
  const bytes = Buffer.from('adapters');
  await bucket.putIfAbsent(layout.object(sha256(bytes)), bytes);
  const files = [{ path: 'out/adapters/adapter_model.safetensors', object: sha256(bytes), size: bytes.length }];
  const outputs: OutputsMarker = { attempt: job.attempt, worker: 0, files, summary: { kind: 'train-summary', steps: 6 } };
  await bucket.putJsonIfAbsent(layout.outputs(KEY), outputs);
  const value: WorkerReport = { attempt: job.attempt, worker: 0, status: 'ok', meta: {}, produced: 2 };
  await bucket.putJsonIfAbsent(layout.report(KEY, job.attempt, 0), value);
}

describe('remote step state machine, a training job', () => {
  const lora: StepSpec = { ...step, id: 'lora', uses: 'finetune/nt-lora', plugin: ntLora, inputs: {} };
  const single = () =>
    target({ label: 'tpu v5litepod-8', acceleratorType: 'v5litepod-8', worker: 'jax', hosts: 1, chipsPerHost: 8, maxAttempts: 3 });

  async function train(onWait: () => Promise<void>, resume?: string) {
    clock.onWait = onWait;
    nodes.hosts = 1;
    const trainerEvents: JaxEvent[] = [];
    const events: RunEvent[] = [];
    const job: TrainJob = {
      kind: 'train',
      base_model: 'model',
      levels: ['genus'],
      classes: [['Candida', 'Pichia']],
      include_cls: true,
      prefix: 1,
      max_length: 64,
      settings: {
        weights: [1],
        hidden: 8,
        lora: { rank: 2, alpha: 4, dropout: 0, targets: ['query', 'value'] },
        train: { learning_rate: 0.001, weight_decay: 0, warmup_steps: 0, schedule: 'constant', grad_accum: 1, remat: 'none', seed: 1 },
      },
      length: { steps: 6 },
      eval_every: null,
      checkpoint_every_steps: 2,
      checkpoint_every_minutes: 30,
      placement: {
        platform: 'tpu',
        hosts: 1,
        host_devices: null,
        mesh: { data: 8, fsdp: 1, tp: 1 },
        per_device_batch: 1,
        precision: 'bf16',
      },
    };
    const paths: TrainPaths = {
      model: join(dir, 'model'),
      data: join(dir, 'examples.arrow'),
      out: join(dir, 'out'),
      checkpoints: join(dir, 'checkpoints-local'),
      tensorboard: join(dir, 'tensorboard'),
      ...(resume !== undefined ? { resume } : {}),
    };
    writeFileSync(paths.data, 'examples');
    const trainer = remoteTrainer({
      step: lora,
      key: KEY,
      workflowName: 'flow',
      target: single(),
      objects,
      checkpoints: new CheckpointLog(join(dir, 'checkpoints'), KEY),
      workdir: dir,
      listing: undefined,
      fileDigest: () => undefined,
      services: { bucket, nodes, clock, pollMs: POLL_MS },
      emit: (e) => events.push(e),
      signal: new AbortController().signal,
    });
    const summary = await trainer(job, paths, async (event) => void trainerEvents.push(event));
    return { summary, trainerEvents, events, job, paths };
  }

  it('gives the attempt after a preemption the last complete checkpoint, never a half-uploaded one', async () => {
    const { summary, trainerEvents, events, job, paths } = await train(async () => {
      const first = bucket.job(1);
      if (first !== undefined && bucket.job(2) === undefined && nodes.nodes.get(NODE(1))?.state === 'READY') {
        await writeCheckpoint(bucket, first, 2);
        await writeCheckpoint(bucket, first, 4, false); // preempted while uploading step 4: no marker
        nodes.preempt(NODE(1));
      }
      const second = bucket.job(2);
      if (second !== undefined && !bucket.objects.has(layout.outputs(KEY))) {
        await writeCheckpoint(bucket, second, 4);
        await finishTraining(bucket, second);
      }
    });
    const [first, second] = [bucket.job(1)!, bucket.job(2)!];
    expect(first).toMatchObject({ shards: [], workers: 1, training: { resume: null, data: sha256('examples') } });
    expect(first.job).toEqual(job);
    expect(first.step).not.toHaveProperty('params');
    expect(second.training!.resume).toEqual({ step: 2, marker: layout.checkpoint(KEY, 2) });
    expect(bucket.objects.get(layout.object(sha256('examples')))?.toString()).toBe('examples');
    // Each complete checkpoint reached the step with its files here, as a local trainer's would.
    expect(trainerEvents).toEqual([
      { kind: 'checkpoint', step: 2, dir: join(paths.checkpoints, '2') },
      { kind: 'checkpoint', step: 4, dir: join(paths.checkpoints, '4') },
    ]);
    // No host wrote a progress object: each new checkpoint marker moved the step's progress.
    expect(events.flatMap((e) => (e.kind === 'step-progress' ? [[e.done, e.total]] : []))).toEqual([
      [2, 6],
      [4, 6],
    ]);
    expect(readFileSync(join(paths.checkpoints, '2/state/data'), 'utf8')).toBe('state at step 2');
    expect(readFileSync(join(paths.out, 'adapters/adapter_model.safetensors'), 'utf8')).toBe('adapters');
    expect(summary).toEqual({ kind: 'train-summary', steps: 6 });
  });

  it("resumes on the slice from the step's own newer checkpoint, uploaded first, and never replaces it with an older marker", async () => {
    const resume = join(dir, 'resume'); // the step's resumable state, as nt-lora unpacks it: STEP/...
    mkdirSync(join(resume, '4/state'), { recursive: true });
    writeFileSync(join(resume, '4/state/data'), 'local state at step 4');
    await writeCheckpoint(bucket, { attempt: 1 } as JobSpec, 2); // an earlier remote run's, older
    const { trainerEvents } = await train(async () => {
      const first = bucket.job(1);
      if (first !== undefined && !bucket.objects.has(layout.outputs(KEY))) await finishTraining(bucket, first);
    }, resume);
    expect(bucket.job(1)!.training!.resume).toEqual({ step: 4, marker: layout.checkpoint(KEY, 4) });
    const marker = JSON.parse(bucket.objects.get(layout.checkpoint(KEY, 4))!.toString()) as CheckpointMarker;
    expect(marker).toMatchObject({
      step: 4,
      attempt: 0,
      worker: 0,
      files: [{ path: '4/state/data', object: sha256('local state at step 4') }],
    });
    expect(bucket.objects.get(layout.object(sha256('local state at step 4')))?.toString()).toBe('local state at step 4');
    expect(trainerEvents).toEqual([]); // step 2's marker did not replace the newer local state
  });

  it('hands the primary host’s new train steps to the step as train-progress lines, skipping a partial or invalid progress object', async () => {
    const object = `${layout.attemptProgress(KEY, 1)}0.json`;
    const line = (step: number) => ({ step, total: 6, loss: 1 / step, tokens_per_second: 100, eta_seconds: 6 - step });
    const progress = (step: number, running = true): HostProgress => ({
      ...{ attempt: 1, worker: 0, running, shard: null, shards: 0, rows: 4 * step, tokens: 400 * step, seconds: step },
      training: line(step),
    });
    // The host rewrites its object in place (GCS overwrites; the memory bucket's putIfAbsent would not).
    const put = (value: unknown) => bucket.objects.set(object, Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
    let polls = 0;
    const { trainerEvents, events } = await train(async () => {
      const first = bucket.job(1);
      if (first === undefined || bucket.objects.has(layout.outputs(KEY))) return;
      polls++;
      if (polls === 1) put(progress(1));
      else if (polls === 2)
        put('{"attempt": 1, "wor'); // caught mid-write, as a partial object
      else if (polls === 3) {
        put(progress(3));
        await writeCheckpoint(bucket, first, 2); // a marker behind the step already shown
      } else if (polls === 4)
        put({ ...progress(4), training: { ...line(4), loss: 'NaN' } }); // outside the schema
      else if (polls <= 6)
        put(progress(4)); // the same step twice: handed once
      else {
        put(progress(6, false)); // the last write precedes the outputs marker
        await finishTraining(bucket, first);
      }
    });
    const trainLine = (step: number) => ({ kind: 'train-progress', ...line(step), rows: 4 * step, tokens: 400 * step });
    expect(trainerEvents).toEqual([
      trainLine(1),
      expect.objectContaining({ kind: 'checkpoint', step: 2 }),
      trainLine(3),
      trainLine(4),
      trainLine(6),
    ]);
    // The step's progress is the step's to report (nt-lora: ctx.progress): the engine's own marker progress stays out.
    expect(events.filter((e) => e.kind === 'step-progress')).toEqual([]);
  });

  it('starts the next attempt fresh when the lost node completed no checkpoint', async () => {
    const { trainerEvents } = await train(async () => {
      const first = bucket.job(1);
      if (first !== undefined && bucket.job(2) === undefined && nodes.nodes.get(NODE(1))?.state === 'READY') nodes.preempt(NODE(1));
      const second = bucket.job(2);
      if (second !== undefined && !bucket.objects.has(layout.outputs(KEY))) await finishTraining(bucket, second);
    });
    expect(bucket.job(2)!.training!.resume).toBeNull();
    expect(trainerEvents).toEqual([]);
    expect(nodes.calls).toEqual([`create ${NODE(1)}`, `delete ${NODE(1)}`, `create ${NODE(2)}`, `delete ${NODE(2)}`]);
  });
});
