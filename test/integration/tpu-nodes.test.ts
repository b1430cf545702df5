// The TPU adapter through the official v2 client (REST) against the local TPU server (test/emulators).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isReady, TpuNodes, type TpuNode } from '../../engine/cloud/tpu-nodes.js';
import { TpuServer } from '../emulators/tpu-server.js';

let server: TpuServer;
let tpu: TpuNodes;
let dir: string;

beforeEach(async () => {
  server = await new TpuServer().start();
  tpu = new TpuNodes({ project: 'p', zone: 'us-central2-b', emulator: server.endpoint });
  dir = mkdtempSync(join(tmpdir(), 'strand-tpu-'));
});
afterEach(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Polls the node until it is READY (the executor does this on its own clock). */
async function ready(id: string): Promise<TpuNode> {
  for (;;) {
    const node = await tpu.get(id);
    if (node !== undefined && isReady(node)) return node;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const request = (id: string, spot: boolean) => ({
  id,
  acceleratorType: 'v4-16',
  runtimeVersion: 'tpu-ubuntu2204-base',
  spot,
  metadata: { 'startup-script': `echo "host $STRAND_WORKER_INDEX" > ${dir}/${id}-$STRAND_WORKER_INDEX` },
  labels: { strand: 'managed', 'strand-step': 'embed' },
});

describe('TPU adapter', () => {
  it('creates a node that turns READY, reads its hosts, and runs the startup script on each', async () => {
    await tpu.create(request('n1', false));
    const node = await ready('n1');
    expect(node).toMatchObject({ id: 'n1', state: 'READY', acceleratorType: 'v4-16', workers: 2 });
    await server.hostsExited();
    expect(readFileSync(join(dir, 'n1-0'), 'utf8')).toBe('host 0\n');
    expect(readFileSync(join(dir, 'n1-1'), 'utf8')).toBe('host 1\n');
    expect((await tpu.list()).map((n) => n.id)).toEqual(['n1']);
    await tpu.delete('n1');
    expect(await tpu.get('n1')).toBeUndefined();
    expect(server.events).toEqual(['create n1', 'ready n1', 'delete n1']);
  });

  it('holds a spot node in a queued resource, sees it preempted, and deletes both', async () => {
    await tpu.create(request('s1', true));
    const node = await ready('s1');
    expect(node.queuedResource).toEqual({ id: 's1', state: 'ACTIVE' });
    server.preempt('s1');
    expect(await tpu.get('s1')).toMatchObject({ state: 'PREEMPTED', queuedResource: { state: 'SUSPENDED' } });
    await tpu.delete('s1');
    expect(server.nodes.size + server.queued.size).toBe(0);
  });

  it('lists only the nodes Strand labelled', async () => {
    await tpu.create(request('mine', false));
    await tpu.create({ ...request('theirs', false), labels: {} });
    expect((await tpu.list()).map((n) => n.id)).toEqual(['mine']);
  });

  it('explains quota, permission and unknown-zone errors', async () => {
    server.inject({
      method: 'POST',
      pathIncludes: '/nodes',
      status: 429,
      grpcStatus: 'RESOURCE_EXHAUSTED',
      message: 'Quota TPUV4PodPerProjectPerZoneForTPUAPI exhausted',
    });
    await expect(tpu.create(request('q', false))).rejects.toThrow(
      /quota or capacity exhausted in us-central2-b .*request TPU quota for project p/,
    );
    server.inject({
      method: 'GET',
      pathIncludes: '/nodes',
      status: 403,
      grpcStatus: 'PERMISSION_DENIED',
      message: 'tpu.nodes.list denied',
    });
    await expect(tpu.checkAccess()).rejects.toThrow(/permission denied in project p/);
    expect(server.nodes.size).toBe(0);
  });
});
