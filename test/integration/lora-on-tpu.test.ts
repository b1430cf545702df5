// finetune/nt-lora on a Cloud TPU slice through the worker contract's training job, against the local GCS
// and TPU servers: the built CLI runs the step's run() here, stages the examples and the tiny model by
// content, and the emulated v5litepod-8 host (8 XLA CPU devices) runs `python -m strand_jax worker`, which
// trains, uploads each complete checkpoint before its marker, and last the outputs. The node is preempted
// from inside the write of the first checkpoint marker (the GCS server's write hook: the marker is durable,
// the host is killed before it can go on, and the first attempt's later markers are held so none can land
// after it); the second attempt resumes from that checkpoint, and the adapters it ends with are
// byte-identical to an uninterrupted local CPU run of the same step (fp32, the same 4x2x1 mesh).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { layout } from '../../engine/cloud/worker-contract.js';
import { deviceBucket } from '../helpers/device-bucket.js';
import { TEST_BUCKET, useLocalCloud } from '../helpers/local-cloud.js';
import { LORA_ADAPTERS, loraOnTpuProject, type LoraOnTpuFlow } from '../helpers/lora-on-tpu-flow.js';
import { removeProjects, runCliAsync } from '../helpers/project.js';

const cloud = useLocalCloud({ jaxHosts: true });
afterEach(removeProjects);

const FLOW: LoraOnTpuFlow = {
  name: 'lora-tpu',
  pod: '{ kind: tpu, type: v5litepod-8, project: test-project, zone: us-west4-a, bucket: gs://strand-test/strand, spot: true }',
  evalEvery: 2,
  loraWith: '      tensorboard: out/tensorboard\n',
  steps: (on) => `  embed:
    uses: embed/nt
    needs: [tokens, lora]
    on: ${on}
    mesh: { data: 4, fsdp: 2, tp: 1 }
    batch: { per_device: 2 }
    precision: fp32
    with: { model: models/tiny-nt }
  vectors: { uses: export/parquet, needs: [embed, source], with: { path: out/vectors.parquet } }
`,
};
const project = (on: 'pod' | 'host') => loraOnTpuProject(FLOW, on);

const bucket = deviceBucket(cloud);
const CHECKPOINT_MARKER = /\/checkpoints\/\d{8}\.json$/;
const OUTPUTS_MARKER = /\/outputs\.json$/;

describe('finetune/nt-lora on a Cloud TPU slice (local servers, the Python worker)', () => {
  it('resumes a node preempted at its first checkpoint marker, ends with adapters byte-identical to a local run, and embeds with them as here', async () => {
    const root = project('pod');
    cloud.gcs.onWrite = (_bucket, name) => {
      if (CHECKPOINT_MARKER.test(name) && cloud.tpu.events.every((e) => !e.startsWith('preempt'))) {
        cloud.gcs.holdWrites(
          (held, bytes) =>
            (CHECKPOINT_MARKER.test(held) || OUTPUTS_MARKER.test(held)) &&
            (JSON.parse(bytes.toString()) as { attempt: number }).attempt === 1,
        );
        cloud.tpu.preempt([...cloud.tpu.nodes.values()][0]!.name.split('/').pop()!);
      }
    };
    const run = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // Two nodes for the training (the first preempted), then one for embed/nt with the adapters.
    expect(cloud.tpu.events.filter((e) => e.startsWith('create'))).toHaveLength(3);
    expect(cloud.tpu.events.filter((e) => e.startsWith('preempt'))).toHaveLength(1);
    expect(cloud.tpu.nodes.size + cloud.tpu.queued.size).toBe(0);

    // One training job per attempt: no shards; the second names the checkpoint the first completed.
    const specs = bucket.jobSpecs();
    const [first, second] = specs.filter((spec) => spec.step.uses === 'finetune/nt-lora');
    const embed = specs.find((spec) => spec.step.uses === 'embed/nt');
    // Then embed/nt with the adapters the slice trained, on the slice: its job says so, and carries no params.
    expect(embed).toMatchObject({
      step: { uses: 'embed/nt' },
      job: { kind: 'embed', adapters: true },
      inputs: { adapters: { type: 'adapters' } },
    });
    expect(first).toMatchObject({ attempt: 1, workers: 1, shards: [], step: { uses: 'finetune/nt-lora' } });
    expect(first!.training).toMatchObject({ resume: null });
    expect(first!.job).toMatchObject({
      kind: 'train',
      placement: { platform: 'tpu', hosts: 1, mesh: { data: 4, fsdp: 2, tp: 1 }, per_device_batch: 2 },
    });
    expect(first!.step).not.toHaveProperty('params');
    expect(bucket.checkpoints().map((m) => [m.step, m.attempt])).toEqual([
      [2, 1],
      [4, 2],
    ]);
    expect(second!.training!.resume).toEqual({ step: 2, marker: layout.checkpoint(first!.key, 2) });
    // Every file a marker lists is in the bucket under its digest.
    const [outputs] = bucket.outputs();
    expect(outputs!.attempt).toBe(2);
    for (const file of [...bucket.checkpoints().flatMap((m) => m.files), ...outputs!.files])
      expect(cloud.gcs.buckets.get(TEST_BUCKET)!.has(`strand/objects/${file.object}`)).toBe(true);
    expect(outputs!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['out/adapters/adapter_model.safetensors', 'out/head.safetensors', 'out/metrics.json']),
    );

    expect(run.stdout).toMatch(
      /strand-[0-9a-f]{12}-1 was (PREEMPTED|SUSPENDED) with the training to resume from the checkpoint at step 2; recreating it/,
    );
    expect(run.stdout).toMatch(/\(attempt 2\) with the training to resume from the checkpoint at step 2/);
    expect(run.stdout).toContain('checkpoint at step 2');
    expect(run.stdout).toContain('checkpoint at step 4');
    const hostLogs = cloud.tpu.hostExits.map((h) => h.output).join('\n');
    expect(hostLogs).toContain('worker 0: resuming from the checkpoint at step 2 (attempt 2)');
    expect(readdirSync(join(root, 'out/tensorboard')).some((f) => f.startsWith('events.out.tfevents.'))).toBe(true);

    const local = project('host');
    const reference = await runCliAsync(['run', 'flow.yaml', '--plain'], local, cloud.env());
    expect(reference.stderr).toBe('');
    expect(reference.status).toBe(0);
    expect(readFileSync(join(root, LORA_ADAPTERS)).equals(readFileSync(join(local, LORA_ADAPTERS)))).toBe(true);
    expect(readFileSync(join(root, 'out/lora-adapters/adapter_config.json'), 'utf8')).toBe(
      readFileSync(join(local, 'out/lora-adapters/adapter_config.json'), 'utf8'),
    );
    // The fine-tuned vectors made on the slice are the ones made here.
    expect(readFileSync(join(root, 'out/vectors.parquet')).equals(readFileSync(join(local, 'out/vectors.parquet')))).toBe(true);
  }, 1_200_000);
});
