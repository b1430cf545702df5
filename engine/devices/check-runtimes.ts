// Owns the checks that a step's runtime can run where it is placed, before anything runs: a device's
// `runtime:` and `devices:` make sense for its kind, a step placed on `runtime: jax` has a JAX
// implementation, and the model path holds what the runtime loads (an ONNX file for onnxruntime, a
// Hugging Face folder for JAX). Pure: the model's layout arrives as a value.
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { StepSpec, Workflow } from '../workflow/workflow.js';
import type { YamlSource } from '../workflow/yaml-source.js';
import type { ModelLayout } from './onnx-model-facts.js';
import { stepRuntime } from './step-runtime.js';

export function checkDeviceRuntimes(workflow: Workflow, source: YamlSource): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const [name, device] of Object.entries(workflow.devices)) {
    if (device.kind !== 'cpu' && device.runtime === 'onnx') {
      diagnostics.push(
        errorAt(
          'invalid-value',
          source.locate(['devices', name, 'runtime']),
          `device "${name}": a ${device.kind} runs runtime: jax; runtime: onnx is for kind: cpu`,
          'remove runtime: (kind: tpu and kind: gpu imply jax)',
        ),
      );
    }
    if (device.devices !== undefined && (device.kind !== 'cpu' || device.runtime !== 'jax')) {
      const why =
        device.kind === 'cpu'
          ? 'onnxruntime splits the CPU into mesh: { data: N } workers instead'
          : `a ${device.kind}'s devices come from its type`;
      diagnostics.push(
        errorAt(
          'invalid-value',
          source.locate(['devices', name, 'devices']),
          `device "${name}": devices: counts the XLA host devices of kind: cpu, runtime: jax; ${why}`,
          device.kind === 'cpu' ? 'add runtime: jax, or remove devices:' : 'remove devices:',
        ),
      );
    }
  }
  return diagnostics;
}

/** What the step's model path holds, when it names one. */
export interface StepModel {
  param: string;
  path: string;
  layout: ModelLayout;
}

export function checkStepRuntime(step: StepSpec, workflow: Workflow, model: StepModel | undefined, source: YamlSource): Diagnostic[] {
  const device = step.placement.on === undefined ? undefined : workflow.devices[step.placement.on];
  const plugin = step.plugin;
  if (device?.kind === 'cpu' && device.runtime === 'jax' && !(plugin.runtimes ?? []).includes('jax')) {
    const others = plugin.id === 'embed/onnx' ? 'embed/nt runs the same model folder on JAX' : 'place it on a device without runtime: jax';
    return [
      errorAt(
        'runtime-unsupported',
        source.locate(['steps', step.id, 'on']),
        `step "${step.id}": ${plugin.id} has no JAX implementation, and device "${step.placement.on}" declares runtime: jax`,
        others,
      ),
    ];
  }
  const runtime = stepRuntime(plugin, device);
  const where = device === undefined ? 'the local CPU' : `device "${step.placement.on}"`;
  const diagnostics: Diagnostic[] = [];
  if (runtime === 'onnx' && step.placement.precision === 'bf16') {
    // Without a JAX implementation a step on a tpu or gpu computes on the hosts' CPUs, in Strand's process.
    const computes =
      plugin.runtimes === undefined
        ? `${plugin.id} has no JAX implementation: on ${where} it computes in Strand's process${device !== undefined && device.kind !== 'cpu' ? ` on the ${device.kind}'s host CPUs` : ''}, in fp32`
        : `${where} runs onnxruntime, which computes in the precision of the export (fp32)`;
    diagnostics.push(
      errorAt(
        'precision-unsupported',
        source.locate(['steps', step.id, 'precision']),
        `step "${step.id}": precision: bf16 needs JAX; ${computes}`,
        plugin.runtimes === undefined
          ? 'remove precision: (it would change the cache key, not the numbers)'
          : 'place the step on a device with runtime: jax (or a tpu or gpu), or remove precision:',
      ),
    );
  }
  if (plugin.runtimes === undefined || model === undefined) return diagnostics;
  const at = source.locate(['steps', step.id, 'with', model.param]);
  const { onnx, folder } = model.layout;
  if (runtime === 'onnx' && onnx === undefined) {
    diagnostics.push(
      errorAt(
        'runtime-model-missing',
        at,
        `step "${step.id}": ${where} runs onnxruntime, which needs an ONNX file, and ${model.path} has no model.onnx`,
        `export the model to ${model.path}/model.onnx (optimum-cli export onnx --task feature-extraction), or place the step on a device with runtime: jax`,
      ),
    );
  }
  if (runtime === 'jax' && (folder === undefined || !folder.config || folder.weights === undefined)) {
    const lacks =
      folder === undefined
        ? `${model.path} is a file, not a model folder`
        : !folder.config
          ? `${model.path} has no config.json`
          : `${model.path} has neither model.safetensors nor pytorch_model.bin`;
    diagnostics.push(
      errorAt(
        'runtime-model-missing',
        at,
        `step "${step.id}": ${where} runs JAX, which loads a Hugging Face folder (config.json + model.safetensors or pytorch_model.bin); ${lacks}`,
        'give the folder the model was downloaded to (huggingface-cli download InstaDeepAI/nucleotide-transformer-v2-50m-multi-species --local-dir nt-v2-50m)',
      ),
    );
  }
  return diagnostics;
}
