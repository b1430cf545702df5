// Owns which runtime computes a step and with what precision: the device declares the runtime
// (`runtime: jax | onnx` on kind: cpu; tpu and gpu run JAX), a plugin lists the runtimes it has, and the
// numerics that enter the cache key follow from both. Pure.
import type { Runtime } from '../plugin-api/run-placement.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import type { StepPlacement } from '../workflow/workflow.js';
import type { DeviceSpec } from './device-catalog.js';

/** The runtime a device asks for. */
export function deviceRuntime(device: DeviceSpec | undefined): Runtime {
  if (device === undefined) return 'onnx';
  return device.kind === 'cpu' ? (device.runtime ?? 'onnx') : 'jax';
}

/**
 * The runtime a step computes with: the device's, when the plugin has it; else the plugin's own (a step
 * without `runtimes` computes in the engine's process, e.g. embed/onnx on a TPU VM's CPUs). A device that
 * explicitly declares a runtime the plugin lacks is refused by validation (`runtime-unsupported`).
 */
export function stepRuntime(plugin: Pick<StepPlugin, 'runtimes'>, device: DeviceSpec | undefined): Runtime {
  const wanted = deviceRuntime(device);
  const has = plugin.runtimes ?? ['onnx'];
  return has.includes(wanted) ? wanted : has[0]!;
}

/**
 * Under JAX, `precision:`, else fp32 on a CPU and bf16 on an accelerator. Anything else computes in Strand's
 * process in fp32 (onnxruntime computes in the precision of the export), wherever it is placed; a
 * `precision: bf16` there is refused at validate time (check-runtimes.ts, precision-unsupported).
 */
export function stepPrecision(
  plugin: Pick<StepPlugin, 'runtimes'>,
  placement: Pick<StepPlacement, 'precision'>,
  device: DeviceSpec | undefined,
): 'fp32' | 'bf16' {
  if (stepRuntime(plugin, device) !== 'jax') return 'fp32';
  return placement.precision ?? (device === undefined || device.kind === 'cpu' ? 'fp32' : 'bf16');
}

/**
 * The placement's part of the cache key (`Fingerprint.numerics`). For a step with several runtimes, the
 * runtime and the effective precision: onnxruntime-fp32 and XLA-fp32 agree to ~1e-6, not bit for bit, so
 * a result of one is not a result of the other. The mesh and the batch are never in it: they regroup the
 * same arithmetic (vectors equal to 1e-5), and moving a step must not recompute it. Other steps keep an
 * explicit `precision:` only, as before.
 */
export function placementNumerics(
  plugin: Pick<StepPlugin, 'runtimes'>,
  placement: Pick<StepPlacement, 'precision'>,
  device: DeviceSpec | undefined,
): Record<string, unknown> {
  if (plugin.runtimes === undefined) return placement.precision ? { precision: placement.precision } : {};
  return { runtime: stepRuntime(plugin, device), precision: stepPrecision(plugin, placement, device) };
}
