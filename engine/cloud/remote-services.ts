// Owns what the remote executor (run-remote-step.ts) asks of the world, as small interfaces: the device's
// bucket (staging and the worker contract's objects), the TPU nodes, and the clock (the time, and waiting
// between polls). `cloudServices` is the one place they are built from the official clients; tests of the
// executor give in-memory ones.
import type { CloudSettings } from './cloud-settings.js';
import { GcsBucket } from './gcs-bucket.js';
import { parseGcsUri, type GcsLocation } from './gcs-uri.js';
import type { RemoteTarget } from './remote-target.js';
import { tpuNodes, type NodeRequest, type TpuNode } from './tpu-nodes.js';

/** The device's `gs://bucket/prefix` root; names are relative to it (the worker contract's layout). */
export interface StagingBucket {
  readonly location: GcsLocation;
  readonly uri: string;
  exists(): Promise<boolean>;
  /** Names under `prefix`, sorted, every page. */
  list(prefix: string): Promise<string[]>;
  get(name: string): Promise<Buffer | undefined>;
  getJson<T>(name: string): Promise<T | undefined>;
  putIfAbsent(name: string, bytes: Uint8Array): Promise<'written' | 'exists'>;
  putJsonIfAbsent(name: string, value: unknown): Promise<'written' | 'exists'>;
  /** putIfAbsent of a file on disk, streamed. */
  uploadFileIfAbsent(name: string, path: string): Promise<'written' | 'exists'>;
  /** Deletes the object if it exists (a shard claim the executor releases). */
  delete(name: string): Promise<void>;
}

/** The TPU nodes of the device's project and zone. */
export interface NodeService {
  /** Fails with a clear message when credentials, project or zone are wrong. */
  checkAccess(): Promise<void>;
  /** Nodes Strand created there. */
  list(): Promise<TpuNode[]>;
  /** Resolves once the create is accepted; the node is READY later (`isReady`). */
  create(request: NodeRequest): Promise<void>;
  /** undefined when the node (and its queued resource) no longer exist. */
  get(id: string): Promise<TpuNode | undefined>;
  /** Resolves when the node and its queued resource are gone. */
  delete(id: string): Promise<void>;
}

export interface RemoteClock {
  now(): Date;
  /** Resolves after `ms` (on this clock). */
  sleep(ms: number): Promise<void>;
}

export interface RemoteServices {
  bucket: StagingBucket;
  nodes: NodeService;
  clock: RemoteClock;
  /** How long to wait between looks at the node and the bucket. */
  pollMs: number;
}

/** The services for a target on Google Cloud (or the local servers the settings name), with real waiting. */
export function cloudServices(
  target: Pick<RemoteTarget, 'bucket' | 'project' | 'zone'>,
  settings: CloudSettings,
  now: () => Date,
): RemoteServices {
  const location = parseGcsUri(target.bucket);
  if (location === undefined) throw new Error(`bug: device bucket ${target.bucket} was not checked`);
  return {
    bucket: new GcsBucket(location, {
      projectId: target.project,
      ...(settings.storageEndpoint ? { apiEndpoint: settings.storageEndpoint } : {}),
    }),
    nodes: tpuNodes({ project: target.project, zone: target.zone }, settings),
    clock: { now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    pollMs: settings.pollMs,
  };
}
