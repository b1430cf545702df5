// Owns the types of where and how a step computes (`Runtime`, `RunPlacement`), as a step sees them.
// Part of the public plugin API.

/**
 * What computes a step: `onnx` is onnxruntime-node (and the engine's own code) in Strand's process; `jax`
 * is the JAX runtime (`runtime/jax`, a Python process) on XLA devices.
 */
export type Runtime = 'onnx' | 'jax';

/**
 * Where and how a step computes, resolved from its device (`on:`), `mesh:`, `batch:` and `precision:`
 * before it starts. The fields of the remote job spec's `placement` (engine/cloud/worker-contract.ts) have
 * the same names, types and values; `kind`, `runtime` and `hostDevices` are added here.
 */
export interface RunPlacement {
  /** The placement as `strand plan` shows it, e.g. `local cpu (jax, 8 host devices) mesh 2x2x2 batch 8/dev`. */
  device: string;
  kind: 'cpu' | 'tpu' | 'gpu';
  /** Which runtime computes: the device's `runtime:` (kind: cpu), `jax` on tpu and gpu, for steps that list it in `runtimes`. */
  runtime: Runtime;
  /** Hosts of the device (a multi-host TPU slice: more than 1); each runs data / hosts of the mesh on its own chips. */
  hosts: number;
  /** data x fsdp x tp = the placement's devices (on kind: cpu with onnx, data is the declared workers, else 1: the step chooses). */
  mesh: { data: number; fsdp: number; tp: number };
  perDeviceBatch: number;
  /** perDeviceBatch x data x fsdp. */
  globalBatch: number;
  /** `precision:`, else fp32 on a CPU and bf16 on an accelerator; onnxruntime always computes fp32. */
  precision: 'fp32' | 'bf16';
  /** kind: cpu, runtime: jax: the XLA host devices the CPU is split into (`devices:` on the device). */
  hostDevices?: number;
}
