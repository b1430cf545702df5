// What the engine and the hosts wrote under the test device's jobs/ (gs://strand-test/strand/jobs/ on the
// local GCS server), read through the worker contract's types (shard markers; a training job's checkpoint and
// outputs markers), and the one check every preemption test
// makes of it: over two attempts each shard ran exactly once.
import { expect } from 'vitest';
import type { CheckpointMarker, JobSpec, OutputsMarker, ShardMarker, WorkerReport } from '../../engine/cloud/worker-contract.js';
import { TEST_BUCKET, type LocalCloud } from './local-cloud.js';

export interface DeviceBucket {
  /** Every marker write, in order (a marker written twice appears twice). */
  readonly markerWrites: () => string[];
  readonly markers: () => ShardMarker[];
  readonly jobSpecs: () => JobSpec[];
  readonly reports: () => WorkerReport[];
  /** A training job's checkpoint markers, by step, and its outputs marker (none or one). */
  readonly checkpoints: () => CheckpointMarker[];
  readonly outputs: () => OutputsMarker[];
}

export function deviceBucket(cloud: LocalCloud): DeviceBucket {
  const read = <T>(part: string): T[] =>
    cloud.gcs
      .objectNames(TEST_BUCKET, 'strand/jobs/')
      .filter((n) => n.includes(part))
      .map((n) => JSON.parse(cloud.gcs.buckets.get(TEST_BUCKET)!.get(n)!.bytes.toString()) as T);
  return {
    markerWrites: () => cloud.gcs.writes.filter((n) => n.includes('/markers/')),
    markers: () => read<ShardMarker>('/markers/'),
    jobSpecs: () => read<JobSpec>('/attempts/'),
    reports: () => read<WorkerReport>('/workers/'),
    checkpoints: () => read<CheckpointMarker>('/checkpoints/'),
    outputs: () => read<OutputsMarker>('/outputs.json'),
  };
}

/**
 * Two attempts ran `total` shards with nothing lost and nothing twice: the second attempt's job listed exactly
 * the shards the first left without a marker, and marked exactly those. Returns the first attempt's shards.
 */
export function expectSecondAttemptRanTheRest(bucket: DeviceBucket, total: number): number[] {
  const [first, second] = bucket.jobSpecs();
  const shardsOf = (attempt: number): number[] =>
    bucket
      .markers()
      .filter((m) => m.attempt === attempt)
      .map((m) => m.index)
      .sort((a, b) => a - b);
  const byFirst = shardsOf(1);
  expect(first!.shards).toHaveLength(total);
  expect(second!.shards).toEqual(first!.shards.filter((i) => !byFirst.includes(i)));
  expect(shardsOf(2)).toEqual(second!.shards);
  expect(bucket.markerWrites()).toHaveLength(total);
  expect(new Set(bucket.markerWrites()).size).toBe(total);
  return byFirst;
}
