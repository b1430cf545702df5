// Which runtime computes a step, what enters its cache key, and the validate-time refusals that follow
// from the device (pure: workflows and model layouts inline).
import { describe, expect, it } from 'vitest';
import { resolveRemoteTargets } from '../../engine/cloud/remote-target.js';
import type { JobSpec } from '../../engine/cloud/worker-contract.js';
import type { ModelLayout } from '../../engine/devices/onnx-model-facts.js';
import { runPlacement } from '../../engine/devices/run-placement.js';
import { placementNumerics } from '../../engine/devices/step-runtime.js';
import type { RunPlacement } from '../../engine/index.js';
import { builtinSteps } from '../../steps/index.js';
import { placedWorkflow } from '../helpers/placed-workflow.js';

const FOLDER: ModelLayout = { onnx: 'nt/model.onnx', folder: { config: true, weights: 'model.safetensors' } };
const TINY = [{ from: 'config.json' as const, values: { layers: 2, hidden: 64, heads: 4, ffn: 256, vocab: 4107 } }];

function load(devices: string, embed: string, layout: ModelLayout = FOLDER) {
  const text = `version: 1
name: rt
devices:
${devices}
steps:
  source: { uses: source/parquet, with: { path: in.parquet } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  embed: ${embed}
`;
  const { workflow, placed } = placedWorkflow(text, (step) =>
    step.id === 'embed' ? { param: 'model', path: String(step.params.model), reading: { sources: TINY, layout } } : undefined,
  );
  const step = workflow.steps.find((s) => s.id === 'embed')!;
  const device = step.placement.on === undefined ? undefined : workflow.devices[step.placement.on];
  return {
    workflow,
    step,
    device,
    placed,
    codes: placed.diagnostics.map((d) => `${d.location.line}:${d.location.column} ${d.code}`),
  };
}

const HOST8 = '  host8: { kind: cpu, runtime: jax, devices: 8 }\n  laptop: { kind: cpu }';

describe('step runtime', () => {
  it('runs embed/nt on JAX with 8 host devices, the mesh and batch going to ctx.placement', () => {
    const { step, device, placed, codes } = load(
      HOST8,
      '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: host8, mesh: { data: 2, fsdp: 2, tp: 2 }, batch: { per_device: 4 } }',
    );
    expect(codes).toEqual([]);
    expect(runPlacement(step, placed.plans.get('embed')!, device)).toEqual({
      device: 'local cpu (jax, 8 host devices) mesh 2x2x2 batch 4/dev',
      kind: 'cpu',
      runtime: 'jax',
      hosts: 1,
      mesh: { data: 2, fsdp: 2, tp: 2 },
      perDeviceBatch: 4,
      globalBatch: 16,
      precision: 'fp32',
      hostDevices: 8,
    });
  });

  it('puts the runtime and precision in the key, not the mesh', () => {
    const jax = load(HOST8, '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: host8, mesh: { data: 2, fsdp: 2, tp: 2 } }');
    const jax8 = load(HOST8, '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: host8, mesh: { data: 8 } }');
    const bf16 = load(HOST8, '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: host8, precision: bf16 }');
    const onnx = load(HOST8, '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: laptop, mesh: { data: 2 } }');
    const numerics = (l: ReturnType<typeof load>) => placementNumerics(l.step.plugin, l.step.placement, l.device);
    expect(numerics(jax)).toEqual({ runtime: 'jax', precision: 'fp32' });
    expect(numerics(jax8)).toEqual(numerics(jax));
    expect(numerics(bf16)).toEqual({ runtime: 'jax', precision: 'bf16' });
    expect(numerics(onnx)).toEqual({ runtime: 'onnx', precision: 'fp32' });
    // A TPU defaults to bf16; steps with one runtime keep only an explicit precision, as before.
    const tpu = load('  pod: { kind: tpu, type: v3-8 }', '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: pod }');
    expect(numerics(tpu)).toEqual({ runtime: 'jax', precision: 'bf16' });
    const onnxStep = load('  pod: { kind: tpu, type: v3-8 }', '{ uses: embed/onnx, needs: [tokens], with: { model: nt.onnx }, on: pod }');
    expect(numerics(onnxStep)).toEqual({});
  });

  it('refuses, located, a tp that does not divide the heads and a mesh that does not fill the host devices', () => {
    const { placed } = load(
      '  host3: { kind: cpu, runtime: jax, devices: 3 }',
      '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: host3, mesh: { tp: 3 } }',
    );
    expect(placed.diagnostics.map((d) => [d.code, d.location.line, d.location.column, d.message])).toEqual([
      ['mesh-heads-mismatch', 8, 83, 'step "embed": tp 3 does not divide the model\'s 4 attention heads'],
      ['mesh-model-mismatch', 8, 83, 'step "embed": tp 3 does not divide the model\'s feed-forward size 256'],
    ]);
    const short = load(
      '  host: { kind: cpu, runtime: jax }',
      '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: host, mesh: { data: 2, fsdp: 2, tp: 2 } }',
    );
    expect(short.placed.diagnostics.map((d) => [d.code, d.hint])).toEqual([
      ['mesh-device-mismatch', 'make the product 1, e.g. mesh: { data: 1 }, or declare devices: 8 on device "host"'],
    ]);
  });

  it('refuses a model path without what the runtime loads, at the model line', () => {
    const noOnnx = load(HOST8, '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: laptop }', {
      folder: { config: true, weights: 'model.safetensors' },
    });
    expect(noOnnx.codes).toEqual(['9:60 runtime-model-missing']);
    expect(noOnnx.placed.diagnostics[0]!.message).toBe(
      'step "embed": device "laptop" runs onnxruntime, which needs an ONNX file, and nt has no model.onnx',
    );
    const onnxFile = load(HOST8, '{ uses: embed/nt, needs: [tokens], with: { model: nt.onnx }, on: host8 }', { onnx: 'nt.onnx' });
    expect(onnxFile.placed.diagnostics.map((d) => d.message)).toEqual([
      'step "embed": device "host8" runs JAX, which loads a Hugging Face folder (config.json + model.safetensors or pytorch_model.bin); nt.onnx is a file, not a model folder',
    ]);
    const noWeights = load(HOST8, '{ uses: embed/nt, needs: [tokens], with: { model: nt }, on: host8 }', { folder: { config: true } });
    expect(noWeights.placed.diagnostics[0]!.message).toMatch(/nt has neither model.safetensors nor pytorch_model.bin$/);
  });

  it('refuses a step without a JAX implementation on runtime: jax, bf16 on onnxruntime, and devices: where it means nothing', () => {
    expect(load(HOST8, '{ uses: embed/onnx, needs: [tokens], with: { model: nt.onnx }, on: host8 }', { onnx: 'nt.onnx' }).codes).toEqual([
      '9:77 runtime-unsupported',
    ]);
    expect(load(HOST8, '{ uses: embed/nt, needs: [tokens], with: { model: nt }, precision: bf16 }').codes).toEqual([
      '9:77 precision-unsupported',
    ]);
    const devices = load(
      '  a: { kind: cpu, devices: 4 }\n  b: { kind: tpu, type: v3-8, runtime: onnx, devices: 8 }',
      '{ uses: embed/nt, needs: [tokens], with: { model: nt } }',
    );
    expect(devices.placed.diagnostics.map((d) => `${d.location.line} ${d.code} ${d.message}`)).toEqual([
      '4 invalid-value device "a": devices: counts the XLA host devices of kind: cpu, runtime: jax; onnxruntime splits the CPU into mesh: { data: N } workers instead',
      '5 invalid-value device "b": a tpu runs runtime: jax; runtime: onnx is for kind: cpu',
      '5 invalid-value device "b": devices: counts the XLA host devices of kind: cpu, runtime: jax; a tpu\'s devices come from its type',
    ]);
  });

  it("gives ctx.placement the remote job spec's placement fields, with the same values", () => {
    const pod = '  pod: { kind: tpu, type: v3-8, project: p, zone: z, bucket: gs://bkt/s }';
    const { workflow, step, device, placed } = load(
      pod,
      '{ uses: embed/onnx, needs: [tokens], with: { model: nt.onnx }, on: pod, mesh: { data: 4, fsdp: 2 }, batch: { global: 64 } }',
      { onnx: 'nt.onnx' },
    );
    const job: JobSpec['placement'] = resolveRemoteTargets(workflow, placed.plans, builtinSteps).targets.get('embed')!.placement;
    const local: RunPlacement = runPlacement(step, placed.plans.get('embed')!, device);
    const { kind: _kind, runtime: _runtime, hosts: _hosts, hostDevices: _host, ...shared } = local;
    expect(shared).toEqual(job);
  });
});
