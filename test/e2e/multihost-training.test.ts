// finetune/nt-lora on a multi-host slice from a workflow file, through the built CLI, against the local GCS and
// TPU servers: the emulated v4-16 has 2 hosts, each a separate `python -m strand_jax worker` process with 4 XLA
// CPU devices, and the training job is ONE program over both (jax.distributed, coordinator on 127.0.0.1, gloo
// collectives): the mesh data=4 x fsdp=2 spans the 8 devices of the 2 processes. The adapters it ends with are
// equal to the same step on this machine's 8 XLA CPU devices in one process (fp32, the same mesh and batch)
// within a relative 1e-5 of their largest value: the gradients' all-reduce across the 2 processes is gloo's,
// which may add the per-device sums in another order than XLA's in-process all-reduce, and fp32 addition is
// not associative (the single-host test, lora-on-tpu, is byte-identical). Two interruptions, each resumed
// from the bucket's newest complete checkpoint marker: the slice preempted between its second and third
// checkpoint, and the engine itself killed (SIGKILL) while the slice trains, then `strand run` again. While
// the slice trains, `strand run --json` shows its steps live: host 0's progress object becomes step-progress
// events with the step and the loss the metrics output has for it (the local GCS server holds each rewrite
// of that object until the engine has read the one before, so what the host wrote is what the engine saw).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { layout } from '../../engine/cloud/worker-contract.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import { deviceBucket } from '../helpers/device-bucket.js';
import { jaxPython } from '../helpers/jax-runtime.js';
import { useLocalCloud } from '../helpers/local-cloud.js';
import { LORA_ADAPTERS, loraOnTpuProject, type LoraOnTpuFlow } from '../helpers/lora-on-tpu-flow.js';
import { outputRows } from '../helpers/output-rows.js';
import { exited, removeProjects, runCliAsync, startCli } from '../helpers/project.js';

const cloud = useLocalCloud({ jaxHosts: true });
afterEach(removeProjects);

const FLOW: LoraOnTpuFlow = {
  name: 'lora-multihost',
  pod: '{ kind: tpu, type: v4-16, project: test-project, zone: us-central2-b, bucket: gs://strand-test/strand }',
  evalEvery: 3,
};
const project = (on: 'pod' | 'host') => loraOnTpuProject(FLOW, on);

const bucket = deviceBucket(cloud);
const CHECKPOINT_MARKER = /\/checkpoints\/(\d{8})\.json$/;
const OUTPUTS_MARKER = /\/outputs\.json$/;
const PROGRESS = /\/progress\/\d{4}-\d+\.json$/;
/** From now on the first attempt's markers are held (its hosts freeze before writing them): nothing of it lands later. */
const holdFirstAttempt = () =>
  cloud.gcs.holdWrites(
    (held, bytes) =>
      (CHECKPOINT_MARKER.test(held) || OUTPUTS_MARKER.test(held)) && (JSON.parse(bytes.toString()) as { attempt: number }).attempt === 1,
  );
const nodeEvents = (verb: string) => cloud.tpu.events.filter((e) => e.startsWith(`${verb} `)).map((e) => e.slice(verb.length + 1));

let reference: Buffer | undefined;
/** The oracle: the same step on this machine's 8 XLA CPU devices, one process (run once, kept for both tests). */
async function localAdapters(): Promise<Buffer> {
  if (reference === undefined) {
    const local = project('host');
    const run = await runCliAsync(['run', 'flow.yaml', '--plain'], local, cloud.env());
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    reference = readFileSync(join(local, LORA_ADAPTERS));
  }
  return reference;
}

/** The largest difference between the project's adapters and `other`'s tensors, over the largest value. */
function relativeDifference(root: string, other: Buffer): number {
  const b = join(root, 'reference.safetensors');
  writeFileSync(b, other);
  const a = join(root, LORA_ADAPTERS);
  const script = [
    'import sys, numpy as np',
    'from safetensors.numpy import load_file',
    'x, y = load_file(sys.argv[1]), load_file(sys.argv[2])',
    'assert sorted(x) == sorted(y), (sorted(x), sorted(y))',
    'print(max(float(np.abs(x[k] - y[k]).max()) for k in x) / max(float(np.abs(x[k]).max()) for k in x))',
  ].join('\n');
  const run = spawnSync(jaxPython(), ['-c', script, a, b], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return Number(run.stdout.trim());
}

function expectTwoHostsEachAttempt(key: string): void {
  const specs = bucket.jobSpecs().filter((s) => s.key === key);
  expect(specs.map((s) => [s.attempt, s.workers])).toEqual([
    [1, 2],
    [2, 2],
  ]);
  expect(specs[0]!.job).toMatchObject({ kind: 'train', placement: { platform: 'tpu', hosts: 2, mesh: { data: 4, fsdp: 2, tp: 1 } } });
  // Each host reports for itself; the last attempt's both ok.
  expect(
    bucket
      .reports()
      .filter((r) => r.attempt === 2)
      .map((r) => [r.worker, r.status]),
  ).toEqual([
    [0, 'ok'],
    [1, 'ok'],
  ]);
  // Written once: every marker and the outputs by host 0.
  expect(new Set([...bucket.checkpoints(), ...bucket.outputs()].map((m) => m.worker))).toEqual(new Set([0]));
  const logs = cloud.tpu.hostExits.map((h) => h.output).join('\n');
  expect(logs).toContain('worker 1: trained to step 6; host 0 uploads the outputs');
}

/**
 * The lora step's live progress in `--json`: train steps strictly increasing, each with the loss the metrics
 * output has for that step, 1 and 2 from the first attempt before its preemption (host 0 writes its object
 * first at step 1 and again before the checkpoint marker at 2, each write held until the engine read the one
 * before), 5 and 6 from the second (its first and last writes), all before the step finished.
 */
function expectLiveTrainSteps(root: string, events: RunEvent[]): void {
  const progress = events.flatMap((e) => (e.kind === 'step-progress' && e.step === 'lora' ? [e] : []));
  const steps = progress.map((e) => e.done);
  expect(steps.every((step, i) => i === 0 || step > steps[i - 1]!)).toBe(true);
  expect(steps).toEqual(expect.arrayContaining([1, 2, 5, 6]));
  const loss = new Map(
    outputRows(root, events, 'lora', 'metrics')
      .filter((r) => r.level === null)
      .map((r) => [r.step, r.train_loss]),
  );
  expect(progress.map((e) => e.values?.loss)).toEqual(steps.map((step) => loss.get(step)));
  for (const e of progress) {
    expect(e).toMatchObject({ total: 6, unit: 'steps', etaSeconds: expect.any(Number) });
    expect(e.counters?.tokens).toBeGreaterThan(0);
  }
  const at = (found: (e: RunEvent) => boolean): number => events.findIndex(found);
  const stepAt = (step: number) => events.indexOf(progress.find((e) => e.done === step)!);
  expect(stepAt(2)).toBeLessThan(at((e) => e.kind === 'step-preempted'));
  expect(at((e) => e.kind === 'step-attempt' && e.attempt === 2)).toBeLessThan(stepAt(5));
  expect(stepAt(6)).toBeLessThan(at((e) => e.kind === 'step-finished' && e.step === 'lora'));
  // Host 0's object alone: host 1 trains the same steps and writes none.
  const written = cloud.gcs.writes.filter((n) => PROGRESS.test(n));
  expect(written.length).toBeGreaterThanOrEqual(4);
  expect(written.every((n) => n.endsWith('-0.json'))).toBe(true);
}

describe('finetune/nt-lora as one JAX program over a 2-host slice (local servers, jax.distributed on CPU)', () => {
  it('resumes a slice preempted between two checkpoints from the last one, with adapters equal to one process on 8 devices within 1e-5, showing its steps live', async () => {
    const root = project('pod');
    cloud.gcs.holdWritesUntilRead((name) => PROGRESS.test(name));
    cloud.gcs.onWrite = (_bucket, name) => {
      // The checkpoint at step 4 is durable; the slice is lost before it can go on.
      if (CHECKPOINT_MARKER.exec(name)?.[1] === '00000004' && nodeEvents('preempt').length === 0) {
        holdFirstAttempt();
        cloud.tpu.preempt(nodeEvents('create')[0]!);
      }
    };
    const run = await runCliAsync(['run', 'flow.yaml', '--json'], root, cloud.env());
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [first, second] = bucket.jobSpecs();
    expect(bucket.checkpoints().map((m) => [m.step, m.attempt])).toEqual([
      [2, 1],
      [4, 1],
    ]);
    expectLiveTrainSteps(
      root,
      run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as RunEvent),
    );
    expect(second!.training!.resume).toEqual({ step: 4, marker: layout.checkpoint(first!.key, 4) });
    expectTwoHostsEachAttempt(first!.key);
    const logs = cloud.tpu.hostExits.map((h) => h.output).join('\n');
    expect(logs).toContain('worker 0: resuming from the checkpoint at step 4 (attempt 2)');
    expect(logs).toContain('worker 1: resuming from the checkpoint at step 4 (attempt 2)');
    expect(cloud.tpu.nodes.size + cloud.tpu.queued.size).toBe(0);
    expect(relativeDifference(root, await localAdapters())).toBeLessThanOrEqual(1e-5);
  }, 1_800_000);

  it('resumes from the newest complete checkpoint marker after the engine is killed mid-training, with no second node for the attempt', async () => {
    const root = project('pod');
    const engine = startCli(['run', 'flow.yaml', '--plain'], root, cloud.env());
    cloud.gcs.onWrite = (_bucket, name) => {
      if (CHECKPOINT_MARKER.exec(name)?.[1] === '00000002' && engine.exitCode === null && engine.signalCode === null) {
        holdFirstAttempt();
        engine.kill('SIGKILL');
      }
    };
    await exited(engine);
    expect(engine.signalCode).toBe('SIGKILL');
    // The killed engine's node is still there, its hosts frozen mid-training.
    const [killedNode] = nodeEvents('create');
    expect([...cloud.tpu.nodes.keys()].map((n) => n.split('/').pop())).toEqual([killedNode]);

    const again = await runCliAsync(['run', 'flow.yaml', '--plain'], root, cloud.env());
    expect(again.stderr).toBe(`note: recovered a lock left by pid ${engine.pid} (no longer running)\n`);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`deleting TPU ${killedNode}, left by an earlier run`);
    // One node per attempt: the left one deleted before the next attempt's node was created.
    const [created1, created2] = nodeEvents('create');
    expect(nodeEvents('create')).toHaveLength(2);
    expect(created2).toBe(created1!.replace(/-1$/, '-2'));
    expect(cloud.tpu.events.indexOf(`delete ${created1}`)).toBeLessThan(cloud.tpu.events.indexOf(`create ${created2}`));
    const [first, second] = bucket.jobSpecs();
    expect(second!.training!.resume).toEqual({ step: 2, marker: layout.checkpoint(first!.key, 2) });
    expect(bucket.checkpoints().map((m) => [m.step, m.attempt])).toEqual([
      [2, 1],
      [4, 2],
    ]);
    expectTwoHostsEachAttempt(first!.key);
    expect(cloud.tpu.nodes.size + cloud.tpu.queued.size).toBe(0);
    expect(relativeDifference(root, await localAdapters())).toBeLessThanOrEqual(1e-5);
  }, 1_800_000);
});
