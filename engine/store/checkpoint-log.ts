// Owns the shard checkpoints of an interrupted step: an append-only, fsynced log per cache key. A
// completed shard is one durable line; a torn last line (a crash mid-append) is ignored.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Sha256Hex } from '../util/sha256.js';
import { appendLineDurable } from './atomic-write.js';

export interface CheckpointEntry {
  /** `output:PORT:INDEX` for an artifact shard, `once:NAME` for a side-effect unit. */
  unit: string;
  digest?: Sha256Hex;
  rows?: number;
}

export class CheckpointLog {
  private readonly path: string;
  readonly entries = new Map<string, CheckpointEntry>();

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

  forget(unit: string): void {
    this.entries.delete(unit);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
