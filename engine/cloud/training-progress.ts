// Owns bringing a remote training job home (the training job kind of the remote executor, job-progress.ts):
// reading the checkpoint markers host 0 writes under jobs/KEY/checkpoints/ (each written only after every
// file of its checkpoint is durable), fetching the newest checkpoint's files (SHA-256 checked) into a local
// folder and handing it to the step (which keeps it as its resumable state, as a local run does), naming it
// in the next attempt's job spec, and, at the end, fetching the outputs the OutputsMarker lists (out/ and
// tensorboard/ files, and wandb/ for a job with wandb) into the local folders the trainer would have written.
// Between markers, the primary host's progress object (HostProgress with `training`: its last train step) is
// handed to the step as the trainer's train-progress line, once per new step, as a local trainer prints it;
// advisory, so an object that cannot be read or does not follow the schema is skipped. Only while none came
// in does a new checkpoint marker move the step's progress instead (a payload that writes no progress object).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StepError } from '../plugin-api/step-error.js';
import type { StepSummary } from '../plugin-api/step-plugin.js';
import type { EmitRunEvent } from '../events/run-event.js';
import type { JaxEvent } from '../jax/jax-process.js';
import { checkRuntimeValue } from '../jax/runtime-schema.js';
import { sha256, type Sha256Hex } from '../util/sha256.js';
import type { JobProgress, JobWork } from './job-progress.js';
import type { StagingBucket } from './remote-services.js';
import {
  checkpointStep,
  layout,
  type CheckpointMarker,
  type HostProgress,
  type OutputsMarker,
  type TrainedFile,
  type TrainingJob,
} from './worker-contract.js';

export interface TrainingProgressParts {
  stepId: string;
  key: string;
  bucket: StagingBucket;
  emit: EmitRunEvent;
  time: () => string;
  /** The examples the job reads (staged as an object by the first attempt). */
  data: Buffer;
  /** Local folders: checkpoints land in checkpoints/STEP/, the outputs' out/ files in `out`, tensorboard/ in
   * `tensorboard`, wandb/ (W&B's run folder, for a job with wandb) in `wandb`. */
  checkpoints: string;
  out: string;
  tensorboard: string;
  wandb?: string;
  /** `checkpoint_every_minutes`: a running attempt may be silent that long before it counts as stalled. */
  checkpointMinutes: number;
  /** Told each newest complete checkpoint once its files are here (the folder checkpoints/STEP). */
  onCheckpoint(step: number, folder: string): Promise<void>;
  /** Told each new train step the primary host's progress object shows, as the trainer's train-progress line. */
  onTrainStep(line: JaxEvent): Promise<void>;
  /** The step's own resumable state, when it has one: a folder holding STEP/… as Orbax wrote it (here, or
   * fetched from an earlier attempt). Newer than the bucket's newest marker, it is uploaded and resumed from;
   * an older marker never replaces it. `total` is the marker's informational step count. */
  local?: { step: number; folder: string; total: number };
}

export class TrainingProgress implements JobProgress {
  private last: { step: number; total: number; marker: string } | undefined;
  /** The last train step handed to the step from a progress object, and its attempt. */
  private shown: { attempt: number; step: number } | undefined;
  private outputs: OutputsMarker | undefined;
  private readonly dataDigest: Sha256Hex;

  constructor(private readonly parts: TrainingProgressParts) {
    this.dataDigest = sha256(parts.data);
  }

  /** The trainer's train-summary, once the outputs are home. */
  get summaryLine(): Record<string, unknown> | undefined {
    return this.outputs?.summary;
  }

  announceResumed(): void {}

  async collect(): Promise<number> {
    const { key, bucket, emit, stepId, time } = this.parts;
    let landed = 0;
    let newMarker: CheckpointMarker | undefined;
    const newest = (await bucket.list(layout.checkpoints(key)))
      .map((name) => ({ name, step: checkpointStep(key, name) }))
      .filter((m): m is { name: string; step: number } => m.step !== undefined)
      .at(-1);
    // A marker no newer than the step's own state is not handed to the step: it would replace newer work.
    const floor = Math.max(this.last?.step ?? 0, this.parts.local?.step ?? 0);
    if (newest !== undefined && newest.step > floor) {
      const marker = await bucket.getJson<CheckpointMarker>(newest.name);
      if (marker === undefined) throw new StepError(`checkpoint marker ${bucket.uri}/${newest.name} vanished`, 'run again');
      await this.fetchFiles(marker.files, (path) => join(this.parts.checkpoints, path));
      this.last = { step: marker.step, total: marker.total, marker: newest.name };
      await this.parts.onCheckpoint(marker.step, join(this.parts.checkpoints, String(marker.step)));
      landed++;
      newMarker = marker;
    } else if (newest !== undefined && this.last === undefined && newest.step === this.parts.local?.step) {
      this.last = { step: newest.step, total: this.parts.local.total, marker: newest.name }; // the same checkpoint
    }
    if (this.outputs === undefined) {
      const outputs = await bucket.getJson<OutputsMarker>(layout.outputs(key));
      if (outputs !== undefined) {
        await this.fetchFiles(outputs.files, (path) => this.localOutput(path));
        this.outputs = outputs;
        landed++;
      }
    }
    // After the outputs marker: the host's last write precedes it, so the last step is seen before the end.
    await this.trainStep();
    if (newMarker !== undefined && this.shown === undefined)
      emit({ kind: 'step-progress', step: stepId, done: newMarker.step, total: newMarker.total, unit: 'steps', time: time() });
    return landed;
  }

  /** Hands the primary host's last train step to the step, when it is new (a later step, or a newer attempt). */
  private async trainStep(): Promise<void> {
    const progress = await this.readProgress();
    const line = progress?.training;
    if (progress === undefined || line === undefined) return;
    const shown = this.shown;
    if (shown !== undefined && (progress.attempt < shown.attempt || (progress.attempt === shown.attempt && line.step <= shown.step)))
      return;
    this.shown = { attempt: progress.attempt, step: line.step };
    await this.parts.onTrainStep({ kind: 'train-progress', ...line, rows: progress.rows, tokens: progress.tokens });
  }

  /** The newest attempt's progress object, or undefined when there is none or it is unreadable or invalid. */
  private async readProgress(): Promise<HostProgress | undefined> {
    const { key, bucket } = this.parts;
    let value: unknown;
    try {
      const newest = (await bucket.list(layout.progresses(key))).at(-1);
      value = newest === undefined ? undefined : await bucket.getJson<unknown>(newest);
    } catch {
      return undefined; // advisory: a partial or unparsable object, or a failed read, is skipped; the next poll looks again
    }
    if (value === undefined) return undefined;
    const checked = checkRuntimeValue<HostProgress>('workerContract', 'HostProgress', value);
    return checked.ok ? checked.value : undefined;
  }

  private localOutput(path: string): string {
    const [top, ...rest] = path.split('/');
    if (top === 'out') return join(this.parts.out, ...rest);
    if (top === 'tensorboard') return join(this.parts.tensorboard, ...rest);
    if (top === 'wandb' && this.parts.wandb !== undefined) return join(this.parts.wandb, ...rest);
    throw new StepError(
      `the outputs marker of ${this.parts.stepId} lists ${path}, outside out/, tensorboard/${this.parts.wandb !== undefined ? ' and wandb/' : ''}`,
      'a bug: report it',
    );
  }

  private async fetchFiles(files: readonly TrainedFile[], local: (path: string) => string): Promise<void> {
    const { bucket, stepId } = this.parts;
    for (const file of files) {
      if (file.path.split('/').includes('..')) throw new StepError(`${stepId}: unsafe path ${file.path} in a marker`, 'a bug: report it');
      const bytes = await bucket.get(layout.object(file.object));
      if (bytes === undefined || sha256(bytes) !== file.object)
        throw new StepError(
          `${file.path} of ${stepId} (object ${file.object}) is missing in ${bucket.uri} or does not match its marker`,
          `delete ${bucket.uri}/${layout.job(this.parts.key)} and run again`,
        );
      const path = local(file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
    }
  }

  /** The step's own checkpoint into the bucket as the contract has it: every file by content, then its marker. */
  private async uploadLocal(local: NonNullable<TrainingProgressParts['local']>): Promise<{ step: number; total: number; marker: string }> {
    const { bucket, key } = this.parts;
    const files: TrainedFile[] = [];
    const names = readdirSync(local.folder, { recursive: true, encoding: 'utf8' }).sort();
    for (const name of names.filter((n) => n.startsWith(`${local.step}/`) && statSync(join(local.folder, n)).isFile())) {
      const bytes = readFileSync(join(local.folder, name));
      const object = sha256(bytes);
      await bucket.putIfAbsent(layout.object(object), bytes);
      files.push({ path: name.split('\\').join('/'), object, size: bytes.length });
    }
    const marker: CheckpointMarker = { step: local.step, total: local.total, attempt: 0, worker: 0, files };
    const name = layout.checkpoint(key, local.step);
    await bucket.putJsonIfAbsent(name, marker);
    return { step: local.step, total: local.total, marker: name };
  }

  complete(): boolean {
    return this.outputs !== undefined;
  }

  async work(): Promise<JobWork> {
    await this.parts.bucket.putIfAbsent(layout.object(this.dataDigest), this.parts.data);
    const local = this.parts.local;
    if (local !== undefined && local.step > (this.last?.step ?? 0)) this.last = await this.uploadLocal(local);
    const resume: TrainingJob['resume'] = this.last === undefined ? null : { step: this.last.step, marker: this.last.marker };
    return { shards: [], training: { data: this.dataDigest, resume } };
  }

  todo(): number {
    return 0;
  }

  describeLeft(): string {
    return this.last === undefined
      ? 'the training to start from step 0'
      : `the training to resume from the checkpoint at step ${this.last.step}`;
  }

  describeMissing(): string {
    return `the trainer wrote no ${layout.outputs(this.parts.key)}`;
  }

  stallMinutes(configured: number): number {
    return configured + this.parts.checkpointMinutes;
  }

  summary(device: string, attempts: number): StepSummary {
    return { device, attempts, ...(this.last !== undefined ? { last_checkpoint: this.last.step } : {}) };
  }
}
