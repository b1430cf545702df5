// A local Cloud TPU v2 REST server for tests: the official @google-cloud/tpu client (REST fallback) talks to
// it as to tpu.googleapis.com. It owns nodes, queued resources and long-running operations, with integer
// enums on the wire, a CREATING -> READY state machine, and what a TPU VM does at boot: when a node turns
// READY it runs the node's `startup-script` once per host, as a local process (so a node of 2 hosts starts 2
// workers), each seeing as many XLA CPU devices as the host has TPU devices (JAX_PLATFORMS=cpu and
// --xla_force_host_platform_device_count: JAX CPU devices stand in for TPU cores). The hosts of a multi-host
// node are told a coordinator address on the loopback (STRAND_COORDINATOR, a free port per node), which a TPU
// VM's JAX reads from the slice's metadata instead: a training job joins one program over them with
// jax.distributed, whose CPU collectives (gloo) go over TCP. Deleting a node stops its
// hosts, and the delete operation completes only once every host process has exited (so `hostExits` is
// complete when a client's delete returns). Tests inject preemption (workers killed, node PREEMPTED, queued
// resource SUSPENDED) and errors, and can hold requests until an event.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalHttpServer, readBody } from './local-http-server.js';

const NODE_STATE = { CREATING: 1, READY: 2, DELETING: 5, PREEMPTED: 11, TERMINATED: 12 } as const;
const QUEUED_STATE = { ACCEPTED: 2, PROVISIONING: 3, FAILED: 4, ACTIVE: 6, SUSPENDED: 8 } as const;

interface EmulatedNode {
  name: string;
  body: Record<string, unknown>;
  state: keyof typeof NODE_STATE;
  hosts: number;
  /** host:port on the loopback where host 0's jax.distributed coordinator listens (multi-host nodes). */
  coordinator?: string;
  queuedResource?: string;
  processes: ChildProcess[];
  createTime: string;
}

interface EmulatedQueued {
  name: string;
  nodeName: string;
  state: keyof typeof QUEUED_STATE;
}

interface Operation {
  name: string;
  /** Polls left before it completes. */
  pollsLeft: number;
  /** Whether it may complete yet (it stays running until then, whatever the polls). */
  ready?: () => boolean;
  complete: () => Record<string, unknown> | { error: { code: number; message: string } };
  result?: Record<string, unknown>;
}

export interface TpuFault {
  method: string;
  pathIncludes: string;
  status: number;
  grpcStatus: string;
  message: string;
}

export interface HostExit {
  node: string;
  host: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Hosts of a slice: chips from the type name (TensorCores for v2/v3/v4/v5p), 4 chips a host (8 for a single-host v5e/v6e). */
export function hostsOf(acceleratorType: string): number {
  const m = /^(v\d+[a-z]*|v5litepod)-(\d+)$/.exec(acceleratorType);
  if (m === null) return 0;
  const size = Number(m[2]);
  const perChip = ['v2', 'v3', 'v4', 'v5p'].includes(m[1]!) ? 2 : 1;
  const chips = size / perChip;
  return perChip === 1 && chips <= 8 ? 1 : Math.ceil(chips / 4);
}

/** JAX devices on each host: TensorCores for v2/v3 (2 a chip), chips for v4/v5p (megacore) and v5e/v6e. */
export function devicesPerHost(acceleratorType: string): number {
  const m = /^(v\d+[a-z]*|v5litepod)-(\d+)$/.exec(acceleratorType);
  const hosts = hostsOf(acceleratorType);
  if (m === null || hosts === 0) return 0;
  const size = Number(m[2]);
  const devices = ['v4', 'v5p'].includes(m[1]!) ? size / 2 : size;
  return devices / hosts;
}

export class TpuServer extends LocalHttpServer {
  readonly nodes = new Map<string, EmulatedNode>();
  readonly queued = new Map<string, EmulatedQueued>();
  readonly operations = new Map<string, Operation>();
  /** What happened, in order: `create NODE`, `ready NODE`, `delete NODE`, `preempt NODE`. */
  readonly events: string[] = [];
  readonly hostExits: HostExit[] = [];
  private readonly faults: TpuFault[] = [];
  private readonly holds: { method: string; pathIncludes: string; until: () => Promise<unknown> }[] = [];
  private readonly hostProcesses: ChildProcess[] = [];
  private readonly exitWaiters: (() => void)[] = [];
  private operationCount = 0;

  /** @param hostEnv environment added to every host process (e.g. the GCS server's address). */
  constructor(private readonly hostEnv: Record<string, string> = {}) {
    super();
  }

  override async stop(): Promise<void> {
    for (const node of this.nodes.values()) this.killHosts(node);
    await super.stop();
  }

  inject(fault: TpuFault): void {
    this.faults.push(fault);
  }

  /** Requests matching `method` and `pathIncludes` are handled only once `until()` resolves (called when one arrives). */
  hold(route: { method: string; pathIncludes: string }, until: () => Promise<unknown>): void {
    this.holds.push({ ...route, until });
  }

  /** Resolves once every host process started so far has exited. */
  hostsExited(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.hostProcesses.every((p) => p.exitCode !== null || p.signalCode !== null)) resolve();
        else this.exitWaiters.push(check); // woken at the next exit
      };
      check();
    });
  }

  /** Preempts a node as Google does: its hosts stop at once, the node is PREEMPTED, its queued resource SUSPENDED. */
  preempt(nodeId: string): void {
    const node = [...this.nodes.values()].find((n) => n.name.endsWith(`/nodes/${nodeId}`));
    if (node === undefined) throw new Error(`no node ${nodeId}`);
    this.killHosts(node);
    node.state = 'PREEMPTED';
    if (node.queuedResource !== undefined) this.queued.get(node.queuedResource)!.state = 'SUSPENDED';
    this.events.push(`preempt ${nodeId}`);
  }

  private killHosts(node: EmulatedNode): void {
    for (const p of node.processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }

  private hostsDown(node: EmulatedNode): boolean {
    return node.processes.every((p) => p.exitCode !== null || p.signalCode !== null);
  }

  private newOperation(parent: string, complete: Operation['complete'], polls = 1, ready?: () => boolean): Record<string, unknown> {
    const name = `${parent}/operations/operation-${++this.operationCount}`;
    this.operations.set(name, { name, pollsLeft: polls, complete, ...(ready ? { ready } : {}) });
    return {
      name,
      done: false,
      metadata: { '@type': 'type.googleapis.com/google.cloud.tpu.v2.OperationMetadata', verb: 'create', target: parent },
    };
  }

  private nodeJson(node: EmulatedNode): Record<string, unknown> {
    return {
      ...node.body,
      name: node.name,
      state: NODE_STATE[node.state],
      createTime: node.createTime,
      networkEndpoints:
        node.state === 'CREATING' ? [] : Array.from({ length: node.hosts }, (_, i) => ({ ipAddress: `10.130.0.${i + 2}`, port: 8470 })),
      ...(node.queuedResource !== undefined ? { queuedResource: node.queuedResource } : {}),
    };
  }

  private bootNode(node: EmulatedNode): void {
    node.state = 'READY';
    this.events.push(`ready ${node.name.split('/').pop()}`);
    const metadata = (node.body.metadata ?? {}) as Record<string, string>;
    const script = metadata['startup-script'];
    if (script === undefined) return;
    for (let host = 0; host < node.hosts; host++) {
      const child = spawn('bash', ['-c', script], {
        env: {
          ...process.env,
          JAX_PLATFORMS: 'cpu',
          // The job says platform: tpu; the worker accepts these CPU devices in the chips' place (here only).
          STRAND_STAND_IN_PLATFORM: 'cpu',
          XLA_FLAGS: `--xla_force_host_platform_device_count=${devicesPerHost(typeof node.body.acceleratorType === 'string' ? node.body.acceleratorType : '')}`,
          ...this.hostEnv,
          STRAND_JOB: metadata['strand-job'] ?? '',
          STRAND_WORKER_INDEX: String(host),
          ...(node.coordinator !== undefined ? { STRAND_COORDINATOR: node.coordinator } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('exit', (code, signal) => {
        this.hostExits.push({ node: node.name.split('/').pop()!, host, code, signal, output });
        for (const wake of this.exitWaiters.splice(0)) wake();
      });
      node.processes.push(child);
      this.hostProcesses.push(child);
    }
  }

  private async createNode(
    parent: string,
    id: string,
    body: Record<string, unknown>,
    queuedResource?: string,
  ): Promise<EmulatedNode | string> {
    const hosts = hostsOf(typeof body.acceleratorType === 'string' ? body.acceleratorType : '');
    if (hosts === 0) return `unknown accelerator type "${String(body.acceleratorType)}"`;
    const name = `${parent}/nodes/${id}`;
    if (this.nodes.has(name)) return `node ${id} already exists`;
    const coordinator = hosts > 1 ? `127.0.0.1:${await freePort()}` : undefined;
    const node: EmulatedNode = {
      name,
      body,
      state: 'CREATING',
      hosts,
      ...(coordinator !== undefined ? { coordinator } : {}),
      processes: [],
      createTime: new Date().toISOString(),
      ...(queuedResource ? { queuedResource } : {}),
    };
    this.nodes.set(name, node);
    this.events.push(`create ${id}`);
    return node;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    const body = (await readBody(req)).toString('utf8');
    for (const hold of this.holds) if (hold.method === req.method && path.includes(hold.pathIncludes)) await hold.until();
    const send = (status: number, json: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const fail = (status: number, grpcStatus: string, message: string): void =>
      send(status, { error: { code: status, message, status: grpcStatus } });
    const faultIndex = this.faults.findIndex((f) => f.method === req.method && path.includes(f.pathIncludes));
    if (faultIndex >= 0) {
      const [fault] = this.faults.splice(faultIndex, 1);
      return fail(fault!.status, fault!.grpcStatus, fault!.message);
    }
    let m: RegExpExecArray | null;
    if (/^\/v2\/projects\/[^/]+\/locations\/[^/]+\/operations\/[^/]+$/.test(path) && req.method === 'GET') {
      const operation = this.operations.get(path.slice(4));
      if (operation === undefined) return fail(404, 'NOT_FOUND', `operation ${path} not found`);
      if (operation.result === undefined && --operation.pollsLeft <= 0 && (operation.ready?.() ?? true))
        operation.result = operation.complete();
      if (operation.result === undefined) return send(200, { name: operation.name, done: false });
      return send(200, { name: operation.name, done: true, ...operation.result });
    }
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/nodes$/.exec(path))) {
      const parent = m[1]!;
      if (req.method === 'GET')
        return send(200, { nodes: [...this.nodes.values()].filter((n) => n.name.startsWith(`${parent}/`)).map((n) => this.nodeJson(n)) });
      if (req.method === 'POST') {
        const created = await this.createNode(parent, url.searchParams.get('nodeId') ?? '', JSON.parse(body) as Record<string, unknown>);
        if (typeof created === 'string')
          return fail(created.includes('exists') ? 409 : 400, created.includes('exists') ? 'ALREADY_EXISTS' : 'INVALID_ARGUMENT', created);
        return send(
          200,
          this.newOperation(
            parent,
            () => (
              this.bootNode(created),
              { response: { '@type': 'type.googleapis.com/google.cloud.tpu.v2.Node', ...this.nodeJson(created) } }
            ),
            2,
          ),
        );
      }
    }
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/nodes\/([^/]+)$/.exec(path))) {
      const node = this.nodes.get(path.slice(4));
      if (node === undefined) return fail(404, 'NOT_FOUND', `node ${m[2]} not found`);
      if (req.method === 'GET') return send(200, this.nodeJson(node));
      if (req.method === 'DELETE') {
        node.state = 'DELETING';
        this.killHosts(node);
        return send(
          200,
          this.newOperation(
            m[1]!,
            () => this.removeNode(node),
            1,
            () => this.hostsDown(node),
          ),
        );
      }
    }
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/queuedResources$/.exec(path))) {
      const parent = m[1]!;
      if (req.method === 'GET') return send(200, { queuedResources: [...this.queued.values()].map((q) => this.queuedJson(q)) });
      if (req.method === 'POST') {
        const id = url.searchParams.get('queuedResourceId') ?? '';
        const request = JSON.parse(body) as { tpu?: { nodeSpec?: { nodeId: string; node: Record<string, unknown> }[] }; spot?: unknown };
        const spec = request.tpu?.nodeSpec?.[0];
        if (spec === undefined) return fail(400, 'INVALID_ARGUMENT', 'queued resource without tpu.nodeSpec');
        const name = `${parent}/queuedResources/${id}`;
        const created = await this.createNode(parent, spec.nodeId, spec.node, name);
        if (typeof created === 'string') return fail(400, 'INVALID_ARGUMENT', created);
        const queued: EmulatedQueued = { name, nodeName: created.name, state: 'ACCEPTED' };
        this.queued.set(name, queued);
        return send(
          200,
          this.newOperation(
            parent,
            () => {
              queued.state = 'ACTIVE';
              this.bootNode(created);
              return { response: { '@type': 'type.googleapis.com/google.cloud.tpu.v2.QueuedResource', ...this.queuedJson(queued) } };
            },
            2,
          ),
        );
      }
    }
    if ((m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/queuedResources\/([^/]+)$/.exec(path))) {
      const queued = this.queued.get(path.slice(4));
      if (queued === undefined) return fail(404, 'NOT_FOUND', `queued resource ${m[2]} not found`);
      if (req.method === 'GET') return send(200, this.queuedJson(queued));
      if (req.method === 'DELETE') {
        const node = this.nodes.get(queued.nodeName);
        if (node !== undefined && url.searchParams.get('force') !== 'true')
          return fail(400, 'FAILED_PRECONDITION', 'queued resource still has a node; delete it or pass force');
        if (node !== undefined) this.killHosts(node);
        return send(
          200,
          this.newOperation(
            m[1]!,
            () => {
              if (node !== undefined) this.removeNode(node);
              this.queued.delete(queued.name);
              return { response: { '@type': 'type.googleapis.com/google.protobuf.Empty' } };
            },
            1,
            () => node === undefined || this.hostsDown(node),
          ),
        );
      }
    }
    return fail(404, 'NOT_FOUND', `no route for ${req.method} ${path}`);
  }

  private removeNode(node: EmulatedNode): Record<string, unknown> {
    this.killHosts(node);
    this.nodes.delete(node.name);
    this.events.push(`delete ${node.name.split('/').pop()}`);
    return { response: { '@type': 'type.googleapis.com/google.protobuf.Empty' } };
  }

  private queuedJson(queued: EmulatedQueued): Record<string, unknown> {
    return {
      name: queued.name,
      state: { state: QUEUED_STATE[queued.state] },
      spot: {},
      tpu: { nodeSpec: [{ parent: queued.name.split('/queuedResources/')[0], nodeId: queued.nodeName.split('/').pop() }] },
    };
  }
}

/** A TCP port free on the loopback now (the OS picks it; the caller's process binds it soon after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
