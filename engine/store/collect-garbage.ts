// Owns garbage collection of a state directory: keep the records that are the latest result of some
// workflow step (and every object they reference), newest first until an optional size cap, and the
// shards and state of interrupted steps (so they still resume); delete the rest and leftover
// temporaries. Run under the state lock, so never during a run.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { CheckpointLog } from './checkpoint-log.js';
import { fingerprintKey } from '../plan/fingerprint.js';
import type { StepRecord } from '../plan/step-record.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { StrandState } from './strand-state.js';

export interface GcReport {
  keptRecords: number;
  removedRecords: number;
  removedObjects: number;
  freedBytes: number;
  keptBytes: number;
}

export function collectGarbage(state: StrandState, maxBytes: number | undefined): GcReport {
  const records = state.records();
  const latest = records
    .filter((r) => {
      const previous = state.previous(r.workflow, r.step);
      return previous !== undefined && fingerprintKey(previous) === r.key;
    })
    .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
  const { objects, temporaries } = state.objects.list();
  const sizes = new Map(objects.map((o) => [o.digest, o.size]));
  const kept = new Set<Sha256Hex>();
  const keptRecords: StepRecord[] = [];
  let keptBytes = 0;
  for (const record of latest) {
    const objects = state.objectsOf(record, false);
    if (!objects.ok) continue; // a record whose objects are gone is not worth keeping
    const digests = objects.value;
    const added = digests.filter((d) => !kept.has(d)).reduce((n, d) => n + (sizes.get(d) ?? 0), 0);
    if (maxBytes !== undefined && keptRecords.length > 0 && keptBytes + added > maxBytes) continue;
    keptBytes += added;
    digests.forEach((d) => kept.add(d));
    keptRecords.push(record);
  }
  // Completed shards of interrupted steps stay, so `strand run` can still resume them.
  if (existsSync(state.layout.checkpoints)) {
    for (const name of readdirSync(state.layout.checkpoints).filter((n) => n.endsWith('.jsonl'))) {
      const log = new CheckpointLog(state.layout.checkpoints, name.slice(0, -'.jsonl'.length) as Sha256Hex);
      for (const entry of log.entries.values()) if (entry.digest) kept.add(entry.digest);
    }
  }
  const keep = new Set(keptRecords.map((r) => r.key));
  let removedRecords = 0;
  for (const record of records) {
    if (!keep.has(record.key)) {
      state.dropRecord(record.key);
      removedRecords++;
    }
  }
  let removedObjects = 0;
  let freedBytes = 0;
  for (const { digest, size } of objects) {
    if (kept.has(digest)) continue;
    state.objects.remove(digest);
    removedObjects++;
    freedBytes += size;
  }
  temporaries.forEach((t) => rmSync(t, { force: true }));
  return { keptRecords: keptRecords.length, removedRecords, removedObjects, freedBytes, keptBytes };
}
