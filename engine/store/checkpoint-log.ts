// Owns the shard checkpoints of an interrupted step: an append-only, fsynced log per cache key. A
// completed shard is one durable line; a torn last line (a crash mid-append) is ignored. Lines recorded
// while an append is in progress share the next append and its fsync.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Sha256Hex } from '../util/sha256.js';
import { appendLineDurable, appendLineDurableAsync } from './atomic-write.js';

export interface CheckpointEntry {
  /** `output:PORT:INDEX` for an artifact shard, `once:NAME` for a side-effect unit. */
  unit: string;
  digest?: Sha256Hex;
  rows?: number;
}

export class CheckpointLog {
  private readonly path: string;
  readonly entries = new Map<string, CheckpointEntry>();
  /** Entries waiting for the append in progress to end; the next append takes them all (group commit). */
  private queued: { entry: CheckpointEntry; done: () => void; failed: (error: unknown) => void }[] = [];
  private appending = false;

  constructor(dir: string, key: Sha256Hex) {
    this.path = join(dir, `${key}.jsonl`);
    if (!existsSync(this.path)) return;
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        const entry = JSON.parse(line) as CheckpointEntry;
        this.entries.set(entry.unit, entry);
      } catch {
        // A torn trailing line from a crash mid-append: that unit did not complete.
      }
    }
  }

  record(entry: CheckpointEntry): void {
    appendLineDurable(this.path, JSON.stringify(entry));
    this.entries.set(entry.unit, entry);
  }

  /**
   * `record` with the append and its fsync on the thread pool: the unit counts as done when it resolves.
   * Entries recorded while an append is in progress go out together in the next one, with one fsync.
   */
  recordAsync(entry: CheckpointEntry): Promise<void> {
    return new Promise((done, failed) => {
      this.queued.push({ entry, done, failed });
      if (!this.appending) void this.appendQueued();
    });
  }

  private async appendQueued(): Promise<void> {
    this.appending = true;
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0);
      try {
        await appendLineDurableAsync(this.path, batch.map((b) => JSON.stringify(b.entry)).join('\n'));
      } catch (error) {
        for (const b of batch) b.failed(error);
        continue;
      }
      for (const b of batch) {
        this.entries.set(b.entry.unit, b.entry);
        b.done();
      }
    }
    this.appending = false;
  }

  forget(unit: string): void {
    this.entries.delete(unit);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
