// Deciding what runs remotely, and the worker contract's pure parts: shard shares, marker names, startup script.
import { describe, expect, it } from 'vitest';
import { resolveRemoteTargets } from '../../engine/cloud/remote-target.js';
import { layout, markerUnit, shardsOf, startupScript } from '../../engine/cloud/worker-contract.js';
import { loadDeviceCatalog } from '../../engine/devices/device-catalog.js';
import { placeWorkflow } from '../../engine/devices/place-workflow.js';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { builtinSteps } from '../../steps/index.js';
import { yamlSource } from '../helpers/fake-source.js';

function targets(devices: string, embedPlacement: string, trainOn = '') {
  const text = `version: 1
name: remote
devices:
${devices}
steps:
  source: { uses: source/parquet, with: { path: in.parquet } }
  profile: { uses: embed/kmer-profile, needs: [source]${embedPlacement} }
  head: { uses: finetune/taxonomy-head, needs: [profile, source]${trainOn} }
`;
  const { workflow, diagnostics } = checkWorkflow({ source: yamlSource(text), plugins: new Map(builtinSteps.map((p) => [p.id, p])), overrides: {}, env: {} });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const { plans } = placeWorkflow(workflow!, undefined, { catalog: loadDeviceCatalog(), cpu: { cores: 2, memoryBytes: 2 ** 34 }, modelFactsOf: () => undefined });
  return resolveRemoteTargets(workflow!, plans, builtinSteps);
}

const POD = '  pod: { kind: tpu, type: v5litepod-8, project: p, zone: us-west4-a, bucket: gs://bkt/strand, spot: true }';

describe('remote targets', () => {
  it('targets a shard-parallel step on a TPU with its mesh, batch and node settings', () => {
    const { targets: found, problems } = targets(POD, ', on: pod, mesh: { data: 8 }, batch: { global: 256 }');
    expect(problems).toEqual([]);
    expect(found.get('profile')).toMatchObject({
      acceleratorType: 'v5litepod-8',
      spot: true,
      keep: false,
      runtimeVersion: 'v2-alpha-tpuv5-lite', // the catalog's image for v5e
      workerCommand: 'strand',
      maxAttempts: 5,
      stallMinutes: 30,
      placement: { mesh: { data: 8, fsdp: 1, tp: 1 }, perDeviceBatch: 32, globalBatch: 256, precision: 'bf16' },
    });
    expect([...found.keys()]).toEqual(['profile']);
  });

  it('refuses steps that cannot run remotely, GPUs, and incomplete devices, saying why', () => {
    expect(targets(POD, '', ', on: pod').problems).toEqual([expect.stringContaining('step "head" (on: pod): finetune/taxonomy-head runs on the local machine only; remote devices run the built-in shard-parallel steps (tokenize/nucleotide-transformer')]);
    expect(targets('  gpus: { kind: gpu, type: h100, count: 8 }', ', on: gpus').problems).toEqual([expect.stringContaining('this version has no GPU executor')]);
    expect(targets('  pod: { kind: tpu, type: v4-8, zone: z }', ', on: pod').problems).toEqual(['device "pod" needs project:, bucket: to run profile on Cloud TPU (e.g. project: my-project, zone: us-central2-b, bucket: gs://my-bucket/strand)']);
  });
});

describe('worker contract', () => {
  it('shares shards among workers, every one exactly once', () => {
    const shards = [0, 2, 3, 5, 8, 9, 11];
    const shares = [0, 1, 2].map((w) => shardsOf(shards, w, 3));
    expect(shares).toEqual([[0, 5, 11], [2, 8], [3, 9]]);
    expect(shares.flat().sort((a, b) => a - b)).toEqual(shards);
  });

  it('names markers so they parse back to port and shard', () => {
    const name = layout.marker('abc', 'embeddings', 42);
    expect(name).toBe('jobs/abc/markers/embeddings/000042.json');
    expect(markerUnit('abc', name)).toEqual({ port: 'embeddings', index: 42 });
    expect(markerUnit('abc', 'jobs/abc/markers/embeddings/x.json')).toBeUndefined();
  });

  it('starts the worker with the job and host index from the metadata server unless already set', () => {
    const script = startupScript('/opt/strand/bin/strand');
    expect(script).toContain('export STRAND_JOB="${STRAND_JOB:-$(attr strand-job)}"');
    expect(script).toContain('export STRAND_WORKER_INDEX="${STRAND_WORKER_INDEX:-$(attr agent-worker-number)}"');
    expect(script.trimEnd().split('\n').pop()).toBe('exec /opt/strand/bin/strand worker');
  });
});
