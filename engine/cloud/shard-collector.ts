// Owns bringing a remote step's finished shards home: which output shards are collected (a checkpoint
// entry whose object is in the local store), reading new shard markers from the device's bucket, fetching
// and verifying each marked object into the store and checkpoint log as it lands, and between markers the
// hosts' live progress (HostProgress objects: tokens/s, and an ETA from the rows left at the hosts' row rate):
// the shard-parallel job kind of the remote executor (job-progress.ts).
import { StepError } from '../plugin-api/step-error.js';
import type { StepSummary } from '../plugin-api/step-plugin.js';
import type { EmitRunEvent } from '../events/run-event.js';
import type { CheckpointLog } from '../store/checkpoint-log.js';
import type { ObjectStore } from '../store/object-store.js';
import { sha256 } from '../util/sha256.js';
import type { JobProgress, JobWork } from './job-progress.js';
import type { StagingBucket } from './remote-services.js';
import { layout, markerUnit, type HostProgress, type ShardMarker } from './worker-contract.js';

export interface ShardCollectorParts {
  stepId: string;
  key: string;
  /** Rows of each input shard, by index. */
  shardRows: readonly number[];
  ports: readonly string[];
  bucket: StagingBucket;
  objects: ObjectStore;
  checkpoints: CheckpointLog;
  emit: EmitRunEvent;
  time: () => string;
}

const unitOf = (port: string, index: number): string => `output:${port}:${index}`;

export class ShardCollector implements JobProgress {
  private readonly seenMarkers = new Set<string>();

  constructor(private readonly parts: ShardCollectorParts) {}

  private get shardCount(): number {
    return this.parts.shardRows.length;
  }

  /** What the running hosts' progress objects say: tokens/s over all of them, and seconds left at their row rate. */
  private async live(): Promise<{ values?: Record<string, number>; etaSeconds?: number }> {
    const { bucket, key, shardRows } = this.parts;
    const names = await bucket.list(layout.progresses(key));
    const hosts = (await Promise.all(names.map((n) => bucket.getJson<HostProgress>(n)))).filter(
      (p): p is HostProgress => p !== undefined && p.running && p.seconds > 0,
    );
    if (hosts.length === 0) return {};
    const tokensPerSecond = hosts.reduce((n, h) => n + h.tokens / h.seconds, 0);
    const rowsPerSecond = hosts.reduce((n, h) => n + h.rows / h.seconds, 0);
    // Shards in flight count whole: the ETA errs long by at most one shard per host.
    const rowsLeft = this.remaining().reduce((n, i) => n + (shardRows[i] ?? 0), 0);
    return { values: { 'tokens/s': tokensPerSecond }, ...(rowsPerSecond > 0 ? { etaSeconds: rowsLeft / rowsPerSecond } : {}) };
  }

  private isCollected(port: string, index: number): boolean {
    const entry = this.parts.checkpoints.entries.get(unitOf(port, index));
    return entry?.digest !== undefined && this.parts.objects.has(entry.digest);
  }

  /** Shard indices some output of which is not collected yet. */
  remaining(): number[] {
    return Array.from({ length: this.shardCount }, (_, i) => i).filter((i) => this.parts.ports.some((p) => !this.isCollected(p, i)));
  }

  complete(): boolean {
    return this.remaining().length === 0;
  }

  async work(): Promise<JobWork> {
    return { shards: this.remaining() };
  }

  todo(): number {
    return this.remaining().length;
  }

  describeLeft(): string {
    return `${this.remaining().length} of ${this.shardCount} shards to do`;
  }

  describeMissing(): string {
    return `shards ${this.remaining().join(', ')} have no marker`;
  }

  stallMinutes(configured: number): number {
    return configured;
  }

  summary(device: string, attempts: number): StepSummary {
    return { device, shards: this.shardCount, rows: this.rows(), attempts };
  }

  /** Emits `shard-resumed` for every shard a previous run collected whole. */
  announceResumed(): void {
    const { stepId, ports, emit, time } = this.parts;
    const { shardCount } = this;
    for (let i = 0; i < shardCount; i++)
      if (ports.every((p) => this.isCollected(p, i)))
        for (const p of ports) emit({ kind: 'shard-resumed', step: stepId, unit: unitOf(p, i), time: time() });
  }

  /** Collects newly finished shards; resolves with how many landed. */
  async collect(): Promise<number> {
    const { stepId, key, bucket, objects, checkpoints, emit, time } = this.parts;
    const { shardCount } = this;
    let landed = 0;
    for (const name of await bucket.list(layout.markers(key))) {
      const at = markerUnit(key, name);
      if (this.seenMarkers.has(name) || at === undefined) continue;
      this.seenMarkers.add(name);
      if (this.isCollected(at.port, at.index)) continue;
      const marker = await bucket.getJson<ShardMarker>(name);
      const bytes = marker === undefined ? undefined : await bucket.get(layout.object(marker.object));
      if (marker === undefined || bytes === undefined || sha256(bytes) !== marker.object)
        throw new StepError(
          `shard ${at.index} of ${stepId} in ${bucket.uri} is missing or does not match its marker`,
          `delete ${bucket.uri}/${name} and run again`,
        );
      objects.put(bytes);
      checkpoints.record({ unit: unitOf(at.port, at.index), digest: marker.object, rows: marker.rows });
      emit({ kind: 'shard-done', step: stepId, unit: unitOf(at.port, at.index), rows: marker.rows, time: time() });
      landed++;
    }
    emit({
      kind: 'step-progress',
      step: stepId,
      done: shardCount - this.remaining().length,
      total: shardCount,
      unit: 'shards',
      ...(await this.live()),
      time: time(),
    });
    return landed;
  }

  /** Rows of the first output port, over every shard collected. */
  rows(): number {
    const first = this.parts.ports[0];
    if (first === undefined) return 0;
    return Array.from({ length: this.shardCount }, (_, i) => this.parts.checkpoints.entries.get(unitOf(first, i))?.rows ?? 0).reduce(
      (a, b) => a + b,
      0,
    );
  }
}
