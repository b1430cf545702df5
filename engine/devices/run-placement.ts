// Owns resolving the placement a step computes with (`StepPlacementPlan.run`: the step context's
// placement, and the JAX job's): the mesh, the per-device and global batch, the precision, the runtime and
// the hosts, from the rest of its placement plan. The one resolver: loading calls it when it places a step,
// and the pre-flight again when XLA's answer changes the batch. Pure.
import type { RunPlacement } from '../plugin-api/run-placement.js';
import type { StepPreflight } from '../plugin-api/step-plugin.js';
import type { StepSpec } from '../workflow/workflow.js';
import type { DeviceSpec } from './device-catalog.js';
import { StepError } from '../plugin-api/step-error.js';
import { DEFAULT_PER_DEVICE_BATCH, type Mesh } from './estimate-placement.js';
import { describePlacement, type StepPlacementPlan } from './step-placement-plan.js';

/** A step run without a placement plan: the local CPU, onnxruntime, `workers` data-parallel workers. */
export function localPlacement(workers = 1): RunPlacement {
  return {
    device: 'local cpu',
    kind: 'cpu',
    runtime: 'onnx',
    hosts: 1,
    mesh: { data: workers, fsdp: 1, tp: 1 },
    perDeviceBatch: DEFAULT_PER_DEVICE_BATCH,
    globalBatch: DEFAULT_PER_DEVICE_BATCH * workers,
    precision: 'fp32',
  };
}

/**
 * The per-device batch a step derives from its own params (`StepPlugin.jax.preflight`: nt-lora's batch_size
 * over data x fsdp x grad_accum) with its program's options, or why its params do not split over `mesh`;
 * undefined without the hook.
 */
export function ownPerDeviceBatch(
  step: Pick<StepSpec, 'plugin' | 'params'>,
  mesh: Mesh,
): StepPreflight | { problem: string; hint?: string } | undefined {
  try {
    return step.plugin.jax?.preflight?.(step.params, mesh);
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    return { problem: error.message, ...(error.hint !== undefined ? { hint: error.hint } : {}) };
  }
}

export function runPlacement(
  step: Pick<StepSpec, 'placement' | 'plugin' | 'params'>,
  plan: Omit<StepPlacementPlan, 'run'>,
  device: DeviceSpec | undefined,
): RunPlacement {
  const estimate = plan.estimate;
  const spec = step.placement;
  const onnxCpu = plan.placement.kind === 'cpu' && plan.runtime === 'onnx';
  // onnxruntime on the CPU: mesh data is the number of workers declared (else 1 here, and the step chooses its
  // sessions: its summary says how many), whatever the cores.
  const mesh = estimate?.mesh ?? {
    data: spec.mesh?.data ?? (onnxCpu ? 1 : plan.placement.devices),
    fsdp: spec.mesh?.fsdp ?? 1,
    tp: spec.mesh?.tp ?? 1,
  };
  const batch = spec.batch;
  const replicas = mesh.data * mesh.fsdp;
  const own = ownPerDeviceBatch(step, mesh);
  const perDeviceBatch =
    (own !== undefined && 'perDeviceBatch' in own ? own.perDeviceBatch : undefined) ??
    estimate?.perDeviceBatch ??
    (batch !== undefined && batch !== 'auto'
      ? 'per_device' in batch
        ? batch.per_device
        : Math.max(1, Math.floor(batch.global / replicas))
      : DEFAULT_PER_DEVICE_BATCH);
  return {
    device: describePlacement(plan),
    kind: plan.placement.kind,
    runtime: plan.runtime,
    hosts: plan.placement.hosts,
    mesh,
    perDeviceBatch,
    globalBatch: perDeviceBatch * replicas,
    precision: plan.precision,
    ...(plan.placement.kind === 'cpu' && plan.runtime === 'jax' ? { hostDevices: device?.devices ?? 1 } : {}),
  };
}
