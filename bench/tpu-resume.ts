// Benchmark: how long a training step on a multi-host slice takes to come back from a preemption, against the
// local GCS and TPU servers (test/emulators), in the setup of test/e2e/multihost-training.test.ts:
// finetune/nt-lora on the tiny NT, 6 steps with a checkpoint every 2, on an emulated v4-16 (2 hosts of 4 XLA
// CPU devices, one jax.distributed program). The slice is preempted as host 0's checkpoint marker at step 2
// lands (every host killed at once, the node PREEMPTED, as Google does). Figures, in seconds from that
// moment: (a) the engine notices (its step-preempted event), (b) the replacement node is asked for (the create
// request reaching the TPU server) and READY (the engine writes its job spec), (c) the replacement's first
// train step (host 0's first progress write of the new attempt) and that step in the run view (the first
// step-progress event after it); between READY and that step, when a host first read the new job spec (its
// process started) and the checkpoint's marker (it joined the slice and staged the model). The engine polls every 0.1 s against the local servers and every 10 s against
// Google (engine/cloud/cloud-settings.ts): see docs/benchmarks.md for what that means on a real slice.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../engine/events/run-event.js';
import { loraOnTpuFlow } from '../test/helpers/lora-on-tpu-flow.js';
import type { BenchResult } from './bench-result.js';
import { copyIn, localCloudServers, runStrandAsync, tempProject } from './bench-tools.js';

const BUCKET = 'strand-test';
const FLOW = loraOnTpuFlow(
  {
    name: 'tpu-resume',
    pod: `{ kind: tpu, type: v4-16, project: p, zone: us-central2-b, bucket: gs://${BUCKET}/strand }`,
    evalEvery: 3,
  },
  'pod',
);
const CHECKPOINT_2 = /\/checkpoints\/00000002\.json$/;
const MARKER = /\/(checkpoints\/\d{8}|outputs)\.json$/;
const FIRST_PROGRESS = /\/progress\/0002-0\.json$/;
const SECOND_JOB = /\/attempts\/0002\.json$/;

export async function tpuResume(): Promise<BenchResult> {
  const result: BenchResult = { name: 'tpu-resume', figures: [], ratios: [], notes: [] };
  const { gcs, tpu } = await localCloudServers(BUCKET);
  const p = tempProject();
  try {
    writeFileSync(join(p.root, 'flow.yaml'), FLOW);
    copyIn(p.root, 'workflows/data/sample.fasta.gz', 'models/tiny-nt');
    const at: { preempted?: number; ready?: number; jobRead?: number; markerRead?: number; firstStep?: number } = {};
    // The create of the replacement: every create request, timed as it arrives (the first is attempt 1's).
    const creates: number[] = [];
    tpu.hold({ method: 'POST', pathIncludes: '/nodes' }, async () => void creates.push(Date.now()));
    gcs.onWrite = (_bucket, name) => {
      const now = Date.now();
      if (CHECKPOINT_2.test(name) && at.preempted === undefined) {
        // Nothing of the first attempt lands after its loss: its hosts freeze before any later marker.
        gcs.holdWrites((held, bytes) => MARKER.test(held) && (JSON.parse(bytes.toString()) as { attempt: number }).attempt === 1);
        tpu.preempt([...tpu.nodes.keys()][0]!.split('/').pop()!);
        at.preempted = now;
      }
      if (SECOND_JOB.test(name)) at.ready ??= now;
      if (FIRST_PROGRESS.test(name)) at.firstStep ??= now;
    };
    // Reads after the replacement is READY are its hosts' (the engine fetched the marker when it landed).
    gcs.onMedia = (_bucket, name) => {
      if (at.ready === undefined) return;
      if (SECOND_JOB.test(name)) at.jobRead ??= Date.now();
      if (CHECKPOINT_2.test(name)) at.markerRead ??= Date.now();
    };
    const run = await runStrandAsync(['run', 'flow.yaml', '--json'], p.root, {
      ...gcs.clientEnv(),
      STRAND_TPU_EMULATOR_HOST: tpu.endpoint,
    });
    if (run.status !== 0) throw new Error(`the training run failed: ${run.stdout}${run.stderr}`);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    const time = (found: RunEvent | undefined): number => (found === undefined ? NaN : Date.parse(found.time));
    const secondAttempt = events.findIndex((e) => e.kind === 'step-attempt' && e.attempt === 2);
    const shown = events.slice(secondAttempt).find((e) => e.kind === 'step-progress' && e.step === 'lora');
    const since = (moment: number | undefined): number => ((moment ?? NaN) - at.preempted!) / 1000;
    const figure = (label: string, moment: number | undefined): void =>
      void result.figures.push({ label, value: since(moment), unit: 's' });
    figure('(a) preemption to the engine noticing (step-preempted)', time(events.find((e) => e.kind === 'step-preempted')));
    figure('(b) preemption to the replacement node asked for (create request)', creates[1]);
    figure('(b) preemption to the replacement READY (its job spec written)', at.ready);
    figure('(c) preemption to a host of the replacement reading its job spec (its worker started)', at.jobRead);
    figure('(c) preemption to a host reading the checkpoint marker (joined the slice, model staged)', at.markerRead);
    figure('(c) preemption to the first resumed train step (host 0 writes its progress)', at.firstStep);
    figure('(c) preemption to that step in the run view (step-progress)', time(shown));
    result.figures.push({ label: 'the run (2 attempts, 6 steps)', value: run.ms / 1000, unit: 's' });
    const resumed = shown?.kind === 'step-progress' ? shown.done : NaN;
    result.notes.push(
      `preempted as the checkpoint marker at step 2 landed; the replacement resumed from it, its first step shown being ${resumed}. From READY to the first step is the hosts' start: Python and JAX imports, jax.distributed, the model and checkpoint fetched, the train step compiled and the checkpoint restored on 2 processes sharing this machine's 2 cores.`,
    );
  } finally {
    p.remove();
    await tpu.stop();
    await gcs.stop();
  }
  return result;
}
