// Owns running one shard-parallel step on a Cloud TPU slice: check access, stage the step's inputs and
// files by content in the device's bucket, create a node whose startup script starts a worker per host,
// write the attempt's job spec, follow the shard markers (collecting each finished shard into the local
// store and checkpoint log as it lands), and on preemption delete the node and start a new attempt for
// the shards without a marker. The node is deleted at the end unless the device says keep: true.
import { statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { StepError, type ArtifactMeta, type StepSummary } from '../index.js';
import type { EmitRunEvent } from '../events/run-event.js';
import type { ArtifactManifest } from '../plan/step-record.js';
import { StepInterrupted } from '../run/step-context.js';
import type { CheckpointLog } from '../store/checkpoint-log.js';
import { hashFile } from '../store/file-digests.js';
import type { ObjectStore } from '../store/object-store.js';
import { sha256, type Sha256Hex } from '../util/sha256.js';
import { pathParams } from '../workflow/path-params.js';
import { onnxModelFiles } from '../onnx/onnx-model-files.js';
import type { StepSpec } from '../workflow/workflow.js';
import type { CloudSettings } from './cloud-settings.js';
import { GcsBucket, parseGcsUri } from './gcs-bucket.js';
import type { RemoteTarget } from './remote-target.js';
import { modelFolderFiles } from './model-folder-files.js';
import { LOST_STATES, MANAGED_LABEL, TpuNodes } from './tpu-nodes.js';
import { stageWorkerLauncher } from './worker-launcher.js';
import { layout, markerUnit, NODE_METADATA, type JobSpec, type ShardMarker, type WorkerReport } from './worker-contract.js';

export interface RemoteStepParts {
  step: StepSpec;
  key: Sha256Hex;
  workflowName: string;
  target: RemoteTarget;
  inputs: Record<string, Sha256Hex>;
  objects: ObjectStore;
  checkpoints: CheckpointLog;
  workdir: string;
  settings: CloudSettings;
  emit: EmitRunEvent;
  signal: AbortSignal;
  now: () => Date;
}

export interface RemoteStepResult {
  meta: Map<string, ArtifactMeta>;
  summary: StepSummary;
}

/** A GCP label value: lowercase letters, digits, - and _, at most 63 characters. */
function labelValue(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 63);
}

export async function runRemoteStep(parts: RemoteStepParts): Promise<RemoteStepResult> {
  const { step, key, target, objects, checkpoints, settings, emit, signal } = parts;
  const time = (): string => parts.now().toISOString();
  const log = (message: string): void => emit({ kind: 'step-log', step: step.id, message, time: time() });
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const bucket = new GcsBucket(parseGcsUri(target.bucket)!, { projectId: target.project, ...(settings.storageEndpoint ? { apiEndpoint: settings.storageEndpoint } : {}) });
  const tpu = new TpuNodes({ project: target.project, zone: target.zone, pollMs: settings.pollMs, ...(settings.tpuEndpoint ? { emulator: settings.tpuEndpoint } : {}) });

  if (!(await bucket.exists())) throw new StepError(`bucket ${bucket.location.bucket} (device ${target.name}) does not exist or is not readable`, `create it (gcloud storage buckets create gs://${bucket.location.bucket} --location=REGION) or fix bucket: in device ${target.name}`);
  try {
    await tpu.checkAccess();
  } catch (error) {
    throw new StepError((error as Error).message);
  }

  const manifests: Record<string, ArtifactManifest> = Object.fromEntries(Object.entries(parts.inputs).map(([port, digest]) => [port, objects.getJson<ArtifactManifest>(digest)]));
  const shardCount = manifests[step.plugin.shardParallel!.shardsFrom]!.shards.length;
  const ports = Object.keys(step.plugin.outputs);
  const unit = (port: string, index: number): string => `output:${port}:${index}`;
  const isCollected = (port: string, index: number): boolean => {
    const entry = checkpoints.entries.get(unit(port, index));
    return entry?.digest !== undefined && objects.has(entry.digest);
  };
  const remaining = (): number[] => Array.from({ length: shardCount }, (_, i) => i).filter((i) => ports.some((p) => !isCollected(p, i)));
  for (let i = 0; i < shardCount; i++) if (ports.every((p) => isCollected(p, i))) for (const p of ports) emit({ kind: 'shard-resumed', step: step.id, unit: unit(p, i), time: time() });

  // Staging by content: what a previous run staged is not sent again.
  const staged = new Set(await bucket.list('objects/'));
  const stage = async (digest: Sha256Hex, upload: (name: string) => Promise<unknown>): Promise<void> => {
    if (!staged.has(layout.object(digest))) await upload(layout.object(digest));
    staged.add(layout.object(digest));
  };
  const files: JobSpec['files'] = [];
  for (const param of pathParams(step).filter((p) => p.direction === 'input')) {
    const path = resolve(parts.workdir, param.path);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) {
      // A model folder: its files, each by content, named under the folder as written (the worker rebuilds it).
      const folder = modelFolderFiles(path);
      if ('error' in folder) throw new StepError(folder.error, 'point the step at a Hugging Face model folder');
      for (const name of folder.names) {
        const digest = hashFile(join(path, name));
        await stage(digest, (object) => bucket.uploadFileIfAbsent(object, join(path, name)));
        files.push({ path: posix.join(param.path, name), object: digest });
      }
      continue;
    }
    const data = param.format === 'onnx' ? onnxModelFiles(path) : undefined;
    if (data !== undefined && !('error' in data) && data.files.length + data.problems.length > 0) {
      // Workers keep staged files by digest, not beside each other: external data would not be found.
      throw new StepError(`${param.path} keeps its weights in external data (${[...data.files.map((f) => f.location), ...data.problems.map((p) => p.location)].join(', ')}), which is not staged to remote workers yet`, 'run this step on the local machine, or export the model as one file (under 2 GB)');
    }
    const digest = hashFile(path);
    await stage(digest, (name) => bucket.uploadFileIfAbsent(name, path));
    files.push({ path: param.path, object: digest });
  }
  for (const manifest of Object.values(manifests)) {
    for (const shard of manifest.shards) await stage(shard.digest, (name) => bucket.putIfAbsent(name, objects.get(shard.digest)));
  }
  const launcher = await stageWorkerLauncher(target, bucket.location, (digest, bytes) => stage(digest, (name) => bucket.putIfAbsent(name, bytes)));
  log(`staged inputs in ${bucket.uri}`);

  const collectedMarkers = new Set<string>();
  /** Collects newly finished shards; resolves with how many landed. */
  const collect = async (): Promise<number> => {
    let landed = 0;
    for (const name of await bucket.list(layout.markers(key))) {
      const at = markerUnit(key, name);
      if (collectedMarkers.has(name) || at === undefined) continue;
      collectedMarkers.add(name);
      if (isCollected(at.port, at.index)) continue;
      const marker = (await bucket.getJson<ShardMarker>(name))!;
      const bytes = await bucket.get(layout.object(marker.object));
      if (bytes === undefined || sha256(bytes) !== marker.object) throw new StepError(`shard ${at.index} of ${step.id} in ${bucket.uri} is missing or does not match its marker`, `delete ${bucket.uri}/${name} and run again`);
      objects.put(bytes);
      checkpoints.record({ unit: unit(at.port, at.index), digest: marker.object, rows: marker.rows });
      emit({ kind: 'shard-done', step: step.id, unit: unit(at.port, at.index), rows: marker.rows, time: time() });
      landed++;
    }
    emit({ kind: 'step-progress', step: step.id, done: shardCount - remaining().length, total: shardCount, unit: 'shards', time: time() });
    return landed;
  };
  const reportsOf = async (attempt: number): Promise<WorkerReport[]> => {
    const names = await bucket.list(layout.reports(key, attempt));
    return Promise.all(names.map(async (n) => (await bucket.getJson<WorkerReport>(n))!));
  };

  // Nodes left by an engine that was killed: their finished shards are kept (markers), the nodes go.
  for (const node of await tpu.list()) {
    if (node.labels['strand-key'] !== key.slice(0, 16)) continue;
    log(`deleting TPU ${node.id}, left by an earlier run (${node.state})`);
    await tpu.delete(node.id);
  }

  const firstAttempt = (await bucket.list(layout.attempts(key))).length + 1;
  let meta: Map<string, ArtifactMeta> | undefined;
  let attempt = firstAttempt;
  await collect();
  // A run that stopped after every shard landed still needs the workers' output metadata.
  if (remaining().length === 0 && firstAttempt > 1) {
    const ok = (await reportsOf(firstAttempt - 1)).find((r) => r.status === 'ok');
    if (ok !== undefined) meta = new Map(Object.entries(ok.meta));
  }
  for (; meta === undefined; attempt++) {
    if (attempt - firstAttempt >= target.maxAttempts) throw new StepError(`${step.id}: the TPU was lost ${target.maxAttempts} times; ${remaining().length} of ${shardCount} shards are still to do`, 'run again to continue from the finished shards, or raise max_attempts / use spot: false');
    const nodeId = `strand-${key.slice(0, 12)}-${attempt}`;
    await collect(); // what the previous node finished before it was deleted
    const todo = remaining();
    log(`creating ${target.label} node ${nodeId} for ${todo.length} of ${shardCount} shards (attempt ${attempt})`);
    emit({ kind: 'step-attempt', step: step.id, attempt, node: nodeId, shards: todo.length, time: time() });
    let keepNode = false;
    try {
      const node = await tpu.create(
        {
          id: nodeId,
          acceleratorType: target.acceleratorType,
          runtimeVersion: target.runtimeVersion,
          spot: target.spot,
          metadata: { [NODE_METADATA.startupScript]: launcher, [NODE_METADATA.job]: `${bucket.uri}/${layout.attempt(key, attempt)}` },
          labels: { [MANAGED_LABEL.key]: MANAGED_LABEL.value, 'strand-workflow': labelValue(parts.workflowName), 'strand-step': labelValue(step.id), 'strand-key': key.slice(0, 16) },
        },
        signal,
      );
      const job: JobSpec = {
        schema: 1,
        key,
        attempt,
        root: bucket.uri,
        projectId: target.project,
        workers: node.workers,
        step: { id: step.id, uses: step.plugin.id, version: step.plugin.version, params: step.params },
        files,
        inputs: manifests,
        outputs: Object.fromEntries(Object.entries(step.plugin.outputs).map(([p, s]) => [p, s.type])),
        shards: todo,
        placement: target.placement,
      };
      await bucket.putJsonIfAbsent(layout.attempt(key, attempt), job);
      log(`${nodeId} is READY with ${node.workers} host${node.workers === 1 ? '' : 's'}; following shard markers`);
      let lastProgress = parts.now().getTime();
      let reported = 0;
      for (;;) {
        if (signal.aborted) throw new StepInterrupted();
        const landed = await collect();
        const reports = await reportsOf(attempt);
        if (landed > 0 || reports.length > reported) lastProgress = parts.now().getTime();
        reported = reports.length;
        const stalledMs = parts.now().getTime() - lastProgress;
        if (stalledMs > target.stallMinutes * 60_000) {
          throw new StepError(
            `no shard finished and no host reported on ${nodeId} for ${target.stallMinutes} min (${node.workers - reports.length} of ${node.workers} hosts silent)`,
            `check the hosts' startup-script output (gcloud compute tpus tpu-vm get-serial-port-output ${nodeId} --zone ${target.zone}), worker_command and the image; finished shards are kept, so run again after the fix`,
          );
        }
        const failed = reports.find((r) => r.status === 'failed');
        if (failed !== undefined) throw new StepError(`worker ${failed.worker} on ${nodeId} failed: ${failed.message ?? 'no message'}`);
        if (reports.length === node.workers) {
          await collect();
          if (remaining().length > 0) throw new StepError(`the workers on ${nodeId} finished, but shards ${remaining().join(', ')} have no marker`);
          meta = new Map(Object.entries(reports[0]!.meta));
          keepNode = target.keep;
          break;
        }
        const now = await tpu.get(nodeId);
        const lost = now === undefined ? 'DELETED' : LOST_STATES.has(now.state) ? now.state : now.queuedResource && LOST_STATES.has(now.queuedResource.state) ? now.queuedResource.state : undefined;
        if (lost !== undefined) {
          await collect(); // what landed between this poll's collect and the node's loss
          log(`${nodeId} was ${lost} with ${remaining().length} shards to do; recreating it`);
          emit({ kind: 'step-preempted', step: step.id, attempt, node: nodeId, state: lost, time: time() });
          break;
        }
        await pause(settings.pollMs);
      }
    } finally {
      if (!keepNode) {
        await tpu.delete(nodeId);
        log(`deleted ${nodeId}`);
      } else log(`kept ${nodeId} (keep: true); delete it with \`strand tpu delete\``);
    }
  }
  const rows = Array.from({ length: shardCount }, (_, i) => checkpoints.entries.get(unit(ports[0]!, i))?.rows ?? 0).reduce((a, b) => a + b, 0);
  return { meta, summary: { device: target.label, shards: shardCount, rows, attempts: attempt - firstAttempt } };
}
