// Benchmark: one embed/nt step over 3 spot v4-8 nodes (`replicas: 3`) against the local GCS and TPU servers
// (test/emulators; each node one host of 4 XLA CPU devices, the Python worker), in the setup of
// test/e2e/tpu-replicas.test.ts: 8 shards, one node preempted just after it claims its second shard. Figures:
// the shards each node marked, and the tail: how long each node that ran out of shards waited for the last
// shard to land (from its report reaching the storage server, sent when its host finds nothing left to
// claim, to the last marker's write).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShardClaim, ShardMarker, WorkerReport } from '../engine/cloud/worker-contract.js';
import type { BenchResult } from './bench-result.js';
import { copyIn, localCloudServers, runStrandAsync, tempProject } from './bench-tools.js';

const BUCKET = 'strand-test';
const FLOW = `version: 1
name: tpu-replicas
devices:
  pods: { kind: tpu, type: v4-8, replicas: 3, spot: true, project: p, zone: us-central2-b, bucket: gs://${BUCKET}/strand }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 125 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed: { uses: embed/nt, needs: [tokens], with: { model: models/tiny-nt, pooling: mean }, on: pods, mesh: { data: 1, fsdp: 2, tp: 2 }, batch: { per_device: 4 }, precision: fp32 }
`;

export async function tpuReplicas(): Promise<BenchResult> {
  const result: BenchResult = { name: 'tpu-replicas', figures: [], ratios: [], notes: [] };
  const { gcs, tpu } = await localCloudServers(BUCKET);
  const p = tempProject();
  const objects = gcs.buckets.get(BUCKET)!;
  const json = <T>(name: string): T => JSON.parse(objects.get(name)!.bytes.toString()) as T;
  const named = (part: string): string[] => [...objects.keys()].filter((n) => n.includes(part));
  try {
    writeFileSync(join(p.root, 'flow.yaml'), FLOW);
    copyIn(p.root, 'workflows/data/sample.parquet', 'models/tiny-nt');
    let preempted: number | undefined;
    const writtenAt = new Map<string, number>();
    gcs.onWrite = (_bucket, name) => {
      writtenAt.set(name, performance.now());
      if (preempted !== undefined || !name.includes('/claims/')) return;
      const claim = json<ShardClaim>(name);
      if (!named('/markers/').some((m) => json<ShardMarker>(m).attempt === claim.attempt)) return;
      preempted = claim.attempt;
      tpu.preempt([...tpu.nodes.keys()].map((n) => n.split('/').pop()!).find((id) => id.endsWith(`-${claim.attempt}`))!);
    };
    const run = await runStrandAsync(['run', 'flow.yaml', '--plain'], p.root, {
      ...gcs.clientEnv(),
      STRAND_TPU_EMULATOR_HOST: tpu.endpoint,
    });
    if (run.status !== 0) throw new Error(`the replicas run failed: ${run.stdout}${run.stderr}`);
    const markers = named('/markers/').map((n) => json<ShardMarker>(n));
    const ends = new Map(named('/workers/').map((n) => [json<WorkerReport>(n).attempt, writtenAt.get(n)!]));
    const last = Math.max(...named('/markers/').map((n) => writtenAt.get(n)!));
    for (const attempt of [1, 2, 3, 4]) {
      const shards = markers.filter((m) => m.attempt === attempt).length;
      const end = ends.get(attempt);
      const role = attempt === preempted ? ' (preempted)' : attempt === 4 ? ' (replacement)' : '';
      result.figures.push({ label: `node of attempt ${attempt}${role}: shards marked`, value: shards, unit: 'shards' });
      if (end !== undefined)
        result.figures.push({
          label: `node of attempt ${attempt}${role}: idle until the last shard landed`,
          value: Math.max(0, last - end) / 1000,
          unit: 's',
        });
    }
    const first = Math.min(...ends.values());
    result.figures.push({
      label: 'tail: first node out of shards to the last shard landed',
      value: Math.max(0, last - first) / 1000,
      unit: 's',
    });
    result.figures.push({ label: 'step wall time (the whole run)', value: run.ms / 1000, unit: 's' });
    result.notes.push(
      `node of attempt ${preempted} preempted just after its second claim; its claim was released and the node replaced (attempt 4). A preempted node, and a replacement deleted before it reported (every shard home), have no idle time.`,
    );
  } finally {
    p.remove();
    await tpu.stop();
    await gcs.stop();
  }
  return result;
}
