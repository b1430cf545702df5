// Placement checked before anything runs: a workflow that targets a TPU slice.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const FLOW = (step: string) => `version: 1
name: tpu
devices:
  pod: { kind: tpu, type: v3-8, project: my-project, zone: us-central1-a, spot: true }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 1 } }
${step}
`;

const NT_2_5B = 'model_facts: { parameters: 2.5e9, layers: 32, hidden: 2560, heads: 20 }';

describe('placement', () => {
  it('reports mesh, batch and memory problems at their lines, with fixes', () => {
    const root = writeProject({
      'flow.yaml': FLOW(
        `  embed: { uses: embed/nt, needs: [tokens], with: { model: models/tiny-nt }, on: pod, mesh: { data: 4, tp: 3 }, batch: { global: 62 }, precision: fp32, ${NT_2_5B} }`,
      ),
    });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt');
    const result = runCli(['validate', 'flow.yaml'], root);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /flow\.yaml:8:\d+: error: step "embed": mesh data 4 x fsdp 1 x tp 3 = 12, but tpu v3-8 \(spot\) has 8 devices \[mesh-device-mismatch\]/,
    );
    expect(result.stderr).toContain('[mesh-heads-mismatch]');
    expect(result.stderr).toContain('error: step "embed": global batch 62 is not divisible by data x fsdp = 4 [batch-mesh-mismatch]');
  });

  it("shows a step without JAX on a TPU as computing on its hosts' CPUs, with no chip estimate, and refuses precision: bf16 there", () => {
    const step = (extra: string) =>
      `  embed: { uses: embed/onnx, needs: [tokens], with: { model: models/tiny-nt.onnx }, on: pod, mesh: { data: 8 }${extra}, ${NT_2_5B} }`;
    const root = writeProject({ 'flow.yaml': FLOW(step('')) });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
    const plan = runCli(['plan', 'flow.yaml', '--plain'], root);
    expect(plan.stdout).toMatch(/will run +embed +embed\/onnx .*\[host CPUs of tpu v3-8 \(spot\) \(in Strand's process, fp32\)\]$/m);
    expect(plan.stdout).not.toContain('chip-h');
    const json = JSON.parse(runCli(['plan', 'flow.yaml', '--json'], root).stdout);
    expect(json.steps.find((s: { step: string }) => s.step === 'embed').placement).not.toHaveProperty('estimate');
    const bf16 = writeProject({ 'flow.yaml': FLOW(step(', precision: bf16')) });
    copyFromRepo(bf16, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
    const refused = runCli(['validate', 'flow.yaml'], bf16);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /flow\.yaml:8:\d+: error: step "embed": precision: bf16 needs JAX; embed\/onnx has no JAX implementation: on device "pod" it computes in Strand's process on the tpu's host CPUs, in fp32 \[precision-unsupported\]/,
    );
  });

  it('names an undeclared device', () => {
    const root = writeProject({
      'flow.yaml': FLOW('  embed: { uses: embed/onnx, needs: [tokens], with: { model: models/tiny-nt.onnx }, on: pdo }'),
    });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
    expect(runCli(['validate', 'flow.yaml'], root).stderr).toContain(
      'error: step "embed" runs on "pdo", which is not declared (did you mean "pod"?) [unknown-device]',
    );
  });

  it('shows placement, memory, time and cost in the plan, and refuses to run before a TPU device is complete', () => {
    const root = writeProject({
      'flow.yaml': FLOW(
        `  embed: { uses: embed/nt, needs: [tokens], with: { model: models/tiny-nt }, on: pod, mesh: { data: 8 }, batch: { per_device: 8 }, tokens: 128, ${NT_2_5B} }`,
      ),
    });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt');
    const plan = JSON.parse(runCli(['plan', 'flow.yaml', '--json'], root).stdout);
    const embed = plan.steps.find((s: { step: string }) => s.step === 'embed');
    expect(embed.placement.device).toBe('tpu v3-8 (spot)');
    expect(embed.placement.estimate.mesh).toEqual({ data: 8, fsdp: 1, tp: 1 });
    expect(embed.placement.estimate.memory.total).toBeLessThanOrEqual(embed.placement.estimate.memory.limit);
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('error: device "pod" needs bucket: to run embed on Cloud TPU');
    expect(run.stderr).toContain('nothing was started');
    // validate and plan said so first, at the step's on:, while still estimating the step.
    const warning = /flow\.yaml:8:\d+: warning: device "pod" needs bucket: to run embed on Cloud TPU.*\[remote-step-not-runnable\]/;
    expect(runCli(['validate', 'flow.yaml'], root).stderr).toMatch(warning);
    expect(plan.diagnostics).toEqual([
      expect.objectContaining({ code: 'remote-step-not-runnable', location: expect.objectContaining({ line: 8 }) }),
    ]);
  });

  it('plans a training step on a multi-host slice (one jax.distributed program over its hosts) without a warning', () => {
    const lora = `  lora: { uses: finetune/nt-lora, needs: [tokens, source], with: { model: models/tiny-nt }, on: pod, mesh: { data: 8 } }`;
    const root = writeProject({
      'flow.yaml': FLOW(lora).replace(
        'type: v3-8, project: my-project, zone: us-central1-a',
        'type: v4-16, project: my-project, zone: us-central2-b, bucket: gs://my-bucket/strand',
      ),
    });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt');
    const validate = runCli(['validate', 'flow.yaml'], root);
    expect(validate.status).toBe(0);
    expect(validate.stderr).not.toContain('warning');
    const plan = runCli(['plan', 'flow.yaml', '--plain'], root);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toMatch(/will run +lora .*\[tpu v4-16/);
    expect(plan.stderr).not.toContain('remote-step-not-runnable');
  });
});
