// Deciding what runs remotely, and the worker contract's pure parts: shard shares, marker names, startup script.
import { describe, expect, it } from 'vitest';
import { resolveRemoteTargets } from '../../engine/cloud/remote-target.js';
import { layout, markerUnit, shardsOf, startupScript } from '../../engine/cloud/worker-contract.js';
import { builtinSteps } from '../../steps/index.js';
import { bundleManifest } from '../../engine/cloud/jax-runtime-bundle.js';
import { jaxStartupScript } from '../../engine/cloud/jax-startup-script.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';
import { placedWorkflow } from '../helpers/placed-workflow.js';
import { yamlSource } from '../helpers/fake-source.js';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { placeWorkflow } from '../../engine/devices/place-workflow.js';
import { loadDeviceCatalog } from '../../engine/devices/device-catalog.js';

/** The remote targets of a workflow of built-in steps. */
function remoteTargetsOf(text: string) {
  const { workflow, placed } = placedWorkflow(text);
  return resolveRemoteTargets(workflow, placed.plans, builtinSteps);
}

function targets(devices: string, embedPlacement: string, trainOn = '') {
  return remoteTargetsOf(`version: 1
name: remote
devices:
${devices}
steps:
  source: { uses: source/parquet, with: { path: in.parquet } }
  profile: { uses: embed/kmer-profile, needs: [source]${embedPlacement} }
  head: { uses: finetune/taxonomy-head, needs: [profile, source]${trainOn} }
`);
}

/** A refusal of `step` whose message contains `text`. */
const messageOf = (step: string, text: string) => ({ step, message: expect.stringContaining(text) as unknown });

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
      // embed/kmer-profile has no JAX implementation: it computes in fp32 on the hosts' CPUs
      placement: {
        device: "host CPUs of tpu v5litepod-8 (spot) (in Strand's process, fp32)",
        mesh: { data: 8, fsdp: 1, tp: 1 },
        perDeviceBatch: 32,
        globalBatch: 256,
        precision: 'fp32',
      },
    });
    expect([...found.keys()]).toEqual(['profile']);
  });

  it('refuses steps that cannot run remotely, GPUs, and incomplete devices, saying why', () => {
    expect(targets(POD, '', ', on: pod').problems).toEqual([
      messageOf(
        'head',
        'step "head" (on: pod): finetune/taxonomy-head runs on the local machine only; remote devices run the built-in shard-parallel and training steps (tokenize/nucleotide-transformer',
      ),
    ]);
    expect(targets('  gpus: { kind: gpu, type: h100, count: 8 }', ', on: gpus').problems).toEqual([
      messageOf('profile', 'this version has no GPU executor'),
    ]);
    expect(targets('  pod: { kind: tpu, type: v4-8, zone: z }', ', on: pod').problems).toEqual([
      {
        step: 'profile',
        message:
          'device "pod" needs project:, bucket: to run profile on Cloud TPU (e.g. project: my-project, zone: us-central2-b, bucket: gs://my-bucket/strand)',
      },
    ]);
  });
});

function ntTargets(
  type: string,
  mesh: string,
  step = `embed: { uses: embed/nt, needs: [tokens], with: { model: models/nt }, on: pod, mesh: ${mesh} }`,
) {
  return remoteTargetsOf(`version: 1
name: remote
devices:
  pod: { kind: tpu, type: ${type}, project: p, zone: z, bucket: gs://bkt/strand }
steps:
  source: { uses: source/parquet, with: { path: in.parquet } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  ${step}
`);
}

describe('JAX steps on a TPU slice', () => {
  it('run on the JAX worker, the node steps on strand worker', () => {
    const { targets: found, problems } = ntTargets('v4-16', '{ data: 2, fsdp: 2, tp: 2 }');
    expect(problems).toEqual([]);
    expect(found.get('embed')).toMatchObject({
      worker: 'jax',
      hosts: 2,
      chipsPerHost: 4,
      placement: { mesh: { data: 2, fsdp: 2, tp: 2 } },
    });
    expect(targets(POD, ', on: pod, mesh: { data: 8 }').targets.get('profile')).toMatchObject({ worker: 'node', hosts: 1 });
  });

  it('run finetune/nt-lora as one training program on a single-host or a multi-host slice', () => {
    const lora = `lora: { uses: finetune/nt-lora, needs: [tokens, source], with: { model: models/nt }, on: pod, mesh: { data: 4, fsdp: 2 } }`;
    const single = ntTargets('v5litepod-8', '', lora);
    expect(single.problems).toEqual([]);
    expect(single.targets.get('lora')).toMatchObject({
      worker: 'jax',
      hosts: 1,
      oneProgram: true,
      placement: { mesh: { data: 4, fsdp: 2, tp: 1 } },
    });
    const multi = ntTargets('v4-16', '', lora);
    expect(multi.problems).toEqual([]);
    expect(multi.targets.get('lora')).toMatchObject({ worker: 'jax', hosts: 2, chipsPerHost: 4, oneProgram: true });
    expect(ntTargets('v4-16', '{ data: 2, fsdp: 2, tp: 2 }').targets.get('embed')).toMatchObject({ oneProgram: false });
  });

  it('run embed/nt over replicas: nodes, and refuse replicas for a training step', () => {
    const embed = ntTargets('v4-8, replicas: 3', '{ data: 1, fsdp: 2, tp: 2 }');
    expect(embed.problems).toEqual([]);
    expect(embed.targets.get('embed')).toMatchObject({ worker: 'jax', replicas: 3, hosts: 1, label: 'tpu v4-8 x3 nodes' });
    expect(ntTargets('v4-8', '{ data: 1, fsdp: 2, tp: 2 }').targets.get('embed')).toMatchObject({ replicas: 1 });
    const lora = `lora: { uses: finetune/nt-lora, needs: [tokens, source], with: { model: models/nt }, on: pod, mesh: { data: 2, fsdp: 2 } }`;
    expect(ntTargets('v4-8, replicas: 3', '', lora).problems).toEqual([
      messageOf('lora', 'step "lora" (on: pod): replicas: 3 runs a shard-parallel step of the JAX worker (embed/nt) over many nodes'),
    ]);
  });

  it('refuse a mesh whose data axis does not divide over the hosts at plan time, located at mesh:', () => {
    const source = yamlSource(`version: 1
name: remote
devices:
  pod: { kind: tpu, type: v4-16, project: p, zone: z, bucket: gs://bkt/strand }
steps:
  source: { uses: source/parquet, with: { path: in.parquet } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  embed: { uses: embed/nt, needs: [tokens], with: { model: models/nt }, on: pod, mesh: { data: 1, fsdp: 8 } }
`);
    const { workflow } = checkWorkflow({ source, plugins: new Map(builtinSteps.map((p) => [p.id, p])), overrides: {}, env: {} });
    const placed = placeWorkflow(workflow!, source, {
      catalog: loadDeviceCatalog(),
      cpu: { cores: 2, memoryBytes: 2 ** 34 },
      modelFactsOf: () => undefined,
    });
    expect(placed.diagnostics.map((d) => [d.code, d.location.line, d.location.column, d.message, d.hint])).toEqual([
      [
        'mesh-hosts-mismatch',
        8,
        88,
        'step "embed": mesh data 1 does not divide over the 2 hosts of tpu v4-16; each host runs data / 2 of the mesh on its own chips (fsdp and tp stay within a host)',
        'make data a multiple of 2, e.g. mesh: { data: 2, fsdp: 4, tp: 1 }',
      ],
    ]);
  });

  it('fetch the runtime by content, check every file, and run the Python worker', () => {
    const manifest = 'e'.repeat(64) as Sha256Hex;
    const one = jaxStartupScript({ bucket: { bucket: 'bkt', prefix: 'a/strand' }, manifest, hosts: 1, chipsPerHost: 8, oneProgram: false });
    expect(one).toContain(`manifest=${manifest}`);
    expect(one).toContain("objects='/storage/v1/b/bkt/o/a%2Fstrand%2Fobjects%2F'");
    expect(one).toContain('echo "$1  $2" | sha256sum -c --quiet -');
    expect(one).toContain('--require-hashes --no-deps -r requirements-tpu.txt');
    expect(one).not.toContain('node');
    expect(one).not.toContain('TPU_PROCESS_BOUNDS');
    expect(one.trimEnd().split('\n').pop()).toBe('exec "$python" -m strand_jax worker');
    const two = jaxStartupScript({ bucket: { bucket: 'bkt', prefix: '' }, manifest, hosts: 2, chipsPerHost: 4, oneProgram: false });
    expect(two).toContain('export TPU_CHIPS_PER_PROCESS_BOUNDS=2,2,1 TPU_PROCESS_BOUNDS=1,1,1');
    expect(two).toContain('export TPU_VISIBLE_CHIPS=0,1,2,3 CLOUD_TPU_TASK_ID=0');
    // One program over the slice (a training job): libtpu sees every host's chips, JAX finds the coordinator itself.
    const slice = jaxStartupScript({ bucket: { bucket: 'bkt', prefix: '' }, manifest, hosts: 2, chipsPerHost: 4, oneProgram: true });
    expect(slice).not.toMatch(/TPU_|STRAND_COORDINATOR/);
    expect(slice.trimEnd().split('\n').pop()).toBe('exec "$python" -m strand_jax worker');
  });

  it('list the bundle in sha256sum format, sorted, and refuse a path that leaves its folder', () => {
    const a = 'a'.repeat(64) as Sha256Hex;
    const b = 'b'.repeat(64) as Sha256Hex;
    expect(
      bundleManifest([
        { path: 'src/strand_jax/x.py', digest: b },
        { path: 'requirements-tpu.txt', digest: a },
      ]),
    ).toBe(`${a}  requirements-tpu.txt\n${b}  src/strand_jax/x.py\n`);
    expect(() => bundleManifest([{ path: '../etc/passwd', digest: a }])).toThrow('unsafe bundle path ../etc/passwd');
  });
});

describe('worker contract', () => {
  it('shares shards among workers, every one exactly once', () => {
    const shards = [0, 2, 3, 5, 8, 9, 11];
    const shares = [0, 1, 2].map((w) => shardsOf(shards, w, 3));
    expect(shares).toEqual([
      [0, 5, 11],
      [2, 8],
      [3, 9],
    ]);
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
