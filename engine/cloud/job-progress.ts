// Owns what the remote executor's one state machine (run-remote-step.ts) asks of a job kind: how its progress
// shows in the bucket and comes home (shard markers for a shard-parallel step: shard-collector.ts; checkpoint
// and outputs markers for a training job: training-progress.ts), what a new attempt's job spec is given, and
// when the whole output is home. The states, nodes, attempts and failures stay in the machine.
import type { StepSummary } from '../plugin-api/step-plugin.js';
import type { JobSpec } from './worker-contract.js';

/** The part of a job spec that says what an attempt does: its shards, or its training job. */
export type JobWork = Pick<JobSpec, 'shards' | 'training'>;

export interface JobProgress {
  /** Emits what an earlier run already brought home. */
  announceResumed(): void;
  /** Brings home what landed in the bucket since the last look; resolves with how many units landed. */
  collect(): Promise<number>;
  /** Whether every output is home. */
  complete(): boolean;
  /** What the next attempt does, from what is home now (the shards without a marker; the last checkpoint). */
  work(): Promise<JobWork>;
  /** Units a new attempt is given, for the step-attempt event (0 for a training job). */
  todo(): number;
  /** What is left, after `with`: `5 of 8 shards to do`, `the training to resume from the checkpoint at step 4`. */
  describeLeft(): string;
  /** Why the job is not complete after every host reported ok. */
  describeMissing(): string;
  /** Minutes without progress before a running attempt fails (a job kind may need longer than stall_minutes). */
  stallMinutes(configured: number): number;
  summary(device: string, attempts: number): StepSummary;
}
