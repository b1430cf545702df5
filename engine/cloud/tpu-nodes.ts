// Owns Strand's use of the Cloud TPU API through the official client (`v2` of @google-cloud/tpu; its
// default export is v1): create a node (or, for spot capacity, a queued resource holding one), read its
// state and workers (networkEndpoints), list the nodes Strand created, delete. Waiting for READY is the
// remote executor's (run-remote-step.ts), on its clock.
// Enum fields arrive as numbers (REST with enum-encoding=int, and in long-running operation results) or
// names; both are normalised to names here.
import { protos, v2 } from '@google-cloud/tpu';
import { PassThroughClient } from 'google-auth-library';
import type { CloudSettings } from './cloud-settings.js';

const NodeState = protos.google.cloud.tpu.v2.Node.State;
const QueuedState = protos.google.cloud.tpu.v2.QueuedResourceState.State;
type NodeMessage = protos.google.cloud.tpu.v2.INode;

/** Labels on every node Strand creates; `strand tpu list` finds nodes by the first. */
export const MANAGED_LABEL = { key: 'strand', value: 'managed' } as const;

export interface TpuLocation {
  project: string;
  zone: string;
}

export interface TpuOptions extends TpuLocation {
  /** `http://host:port` of a server speaking the TPU v2 REST API (tests); unset = Google Cloud. */
  emulator?: string;
}

export interface TpuNode {
  id: string;
  state: string;
  acceleratorType: string;
  /** Hosts: the length of networkEndpoints. */
  workers: number;
  labels: Record<string, string>;
  /** The queued resource holding a spot node, and its state. */
  queuedResource?: { id: string; state: string };
  createTime?: string;
}

export interface NodeRequest {
  id: string;
  acceleratorType: string;
  runtimeVersion: string;
  spot: boolean;
  metadata: Record<string, string>;
  labels: Record<string, string>;
}

/** States after which a node will not run its workers again. */
export const LOST_STATES: ReadonlySet<string> = new Set([
  'PREEMPTED',
  'TERMINATED',
  'STOPPED',
  'STOPPING',
  'DELETING',
  'SUSPENDED',
  'SUSPENDING',
  'FAILED',
]);

/** The state that says the node (or the queued resource holding it) is lost, if it is. */
export function lostState(node: Pick<TpuNode, 'state' | 'queuedResource'>): string | undefined {
  if (LOST_STATES.has(node.state)) return node.state;
  return node.queuedResource !== undefined && LOST_STATES.has(node.queuedResource.state) ? node.queuedResource.state : undefined;
}

/** Whether the node can run its workers: READY, and its queued resource (spot) ACTIVE. */
export function isReady(node: Pick<TpuNode, 'state' | 'queuedResource'>): boolean {
  return node.state === 'READY' && (node.queuedResource === undefined || node.queuedResource.state === 'ACTIVE');
}

function enumName(values: Record<string | number, string | number>, value: unknown): string {
  return typeof value === 'number' ? String(values[value] ?? value) : typeof value === 'string' ? value : 'STATE_UNSPECIFIED';
}

/** A Google API error as a message a user can act on. */
export function describeTpuError(error: unknown, what: string, location: TpuLocation): Error {
  const e = error as { code?: number; details?: string; message?: string };
  const detail = e.details ?? e.message ?? String(error);
  switch (e.code) {
    case 8:
      return new Error(
        `${what}: quota or capacity exhausted in ${location.zone} (${detail}); request TPU quota for project ${location.project}, use spot: true, or choose another zone`,
      );
    case 7:
      return new Error(
        `${what}: permission denied in project ${location.project} (${detail}); grant the account roles/tpu.admin, or check project:`,
      );
    case 16:
      return new Error(
        `${what}: not authenticated (${detail}); run \`gcloud auth application-default login\` or set GOOGLE_APPLICATION_CREDENTIALS`,
      );
    case 5:
      return new Error(`${what}: not found (${detail}); check project: ${location.project} and zone: ${location.zone}`);
    default:
      return new Error(`${what}: ${detail}`);
  }
}

/** The TPU client for a project and zone, connected where the settings say (Google Cloud or a local server). */
export function tpuNodes(location: TpuLocation, settings: Pick<CloudSettings, 'tpuEndpoint'>): TpuNodes {
  return new TpuNodes({ ...location, ...(settings.tpuEndpoint ? { emulator: settings.tpuEndpoint } : {}) });
}

export class TpuNodes {
  private readonly client: v2.TpuClient;
  readonly parent: string;

  constructor(private readonly options: TpuOptions) {
    this.parent = `projects/${options.project}/locations/${options.zone}`;
    if (options.emulator !== undefined) {
      const url = new URL(options.emulator);
      this.client = new v2.TpuClient({
        apiEndpoint: url.hostname,
        port: Number(url.port),
        protocol: 'http',
        fallback: true,
        authClient: new PassThroughClient(),
      } as ConstructorParameters<typeof v2.TpuClient>[0]);
    } else {
      this.client = new v2.TpuClient({ fallback: true });
    }
  }

  private nodeName(id: string): string {
    return `${this.parent}/nodes/${id}`;
  }

  private queuedName(id: string): string {
    return `${this.parent}/queuedResources/${id}`;
  }

  /** Fails with a clear message when credentials, project or zone are wrong, before anything is created. */
  async checkAccess(): Promise<void> {
    try {
      if (this.options.emulator === undefined) await this.client.auth.getAccessToken();
      await this.client.listNodes({ parent: this.parent, pageSize: 1 }, { autoPaginate: false });
    } catch (error) {
      throw describeTpuError(error, `cannot reach Cloud TPU in ${this.parent}`, this.options);
    }
  }

  private toNode(node: NodeMessage, queuedState?: string): TpuNode {
    const id = (node.name ?? '').split('/').pop()!;
    const queued = node.queuedResource ? node.queuedResource.split('/').pop()! : undefined;
    return {
      id,
      state: enumName(NodeState, node.state),
      acceleratorType: node.acceleratorType ?? '',
      workers: node.networkEndpoints?.length ?? 0,
      labels: node.labels ?? {},
      ...(queued !== undefined ? { queuedResource: { id: queued, state: queuedState ?? 'UNKNOWN' } } : {}),
      ...(node.createTime?.seconds != null ? { createTime: new Date(Number(node.createTime.seconds) * 1000).toISOString() } : {}),
    };
  }

  /** Creates the node (spot: through a queued resource); resolves once the create is accepted (not READY: see `isReady`). */
  async create(request: NodeRequest): Promise<void> {
    const node: NodeMessage = {
      acceleratorType: request.acceleratorType,
      runtimeVersion: request.runtimeVersion,
      metadata: request.metadata,
      labels: request.labels,
      networkConfig: { enableExternalIps: false },
    };
    try {
      if (request.spot) {
        const [operation] = await this.client.createQueuedResource({
          parent: this.parent,
          queuedResourceId: request.id,
          queuedResource: { tpu: { nodeSpec: [{ parent: this.parent, nodeId: request.id, node }] }, spot: {} },
        });
        await operation.promise();
      } else {
        const [operation] = await this.client.createNode({
          parent: this.parent,
          nodeId: request.id,
          node: { ...node, schedulingConfig: { spot: false } },
        });
        await operation.promise();
      }
    } catch (error) {
      throw describeTpuError(error, `cannot create TPU ${request.acceleratorType} ${request.id}`, this.options);
    }
  }

  private async queuedState(id: string): Promise<string | undefined> {
    try {
      const [queued] = await this.client.getQueuedResource({ name: this.queuedName(id) });
      return enumName(QueuedState, queued.state?.state);
    } catch (error) {
      if ((error as { code?: number }).code === 5) return undefined;
      throw describeTpuError(error, `cannot read queued resource ${id}`, this.options);
    }
  }

  /**
   * The node with its queued resource's state; undefined when neither exists any more. The queued
   * resource is read only for a node that names one, or when there is no node yet (spot capacity waiting).
   */
  async get(id: string): Promise<TpuNode | undefined> {
    let node: NodeMessage;
    try {
      [node] = await this.client.getNode({ name: this.nodeName(id) });
    } catch (error) {
      if ((error as { code?: number }).code !== 5) throw describeTpuError(error, `cannot read TPU ${id}`, this.options);
      const queuedState = await this.queuedState(id);
      return queuedState === undefined
        ? undefined
        : { id, state: 'CREATING', acceleratorType: '', workers: 0, labels: {}, queuedResource: { id, state: queuedState } };
    }
    const queued = node.queuedResource ? node.queuedResource.split('/').pop()! : undefined;
    return this.toNode(node, queued === undefined ? undefined : await this.queuedState(queued));
  }

  /** Nodes Strand created in this zone (labelled strand=managed). */
  async list(): Promise<TpuNode[]> {
    try {
      const [nodes] = await this.client.listNodes({ parent: this.parent });
      return nodes.filter((n) => n.labels?.[MANAGED_LABEL.key] === MANAGED_LABEL.value).map((n) => this.toNode(n));
    } catch (error) {
      throw describeTpuError(error, `cannot list TPUs in ${this.parent}`, this.options);
    }
  }

  /** Deletes the node, and the queued resource holding it; resolves when both are gone. */
  async delete(id: string): Promise<void> {
    const existing = await this.get(id);
    if (existing === undefined) return;
    try {
      if (existing.queuedResource !== undefined) {
        const [operation] = await this.client.deleteQueuedResource({ name: this.queuedName(id), force: true });
        await operation.promise();
      } else {
        const [operation] = await this.client.deleteNode({ name: this.nodeName(id) });
        await operation.promise();
      }
    } catch (error) {
      if ((error as { code?: number }).code !== 5) throw describeTpuError(error, `cannot delete TPU ${id}`, this.options);
    }
  }
}
