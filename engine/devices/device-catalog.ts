// Owns the device catalog (device-catalog.json: dated figures with their sources) and resolving a
// workflow's device declaration — `{ kind: tpu, type: v3-8 }`, `{ kind: gpu, type: h100, count: 8 }`,
// `{ kind: cpu }` — into what placement needs: devices, hosts, memory and speed per device, prices.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail, ok, type Result } from '../util/result.js';

export interface Accelerator {
  kind: 'tpu' | 'gpu';
  typePrefix?: string;
  /** TPUs: libtpu's name for the generation and whether its chip grid is 2-D or 3-D (tpu-topology.ts). */
  topology?: { name: string; axes: 2 | 3; notCompiled?: string };
  sizeCounts?: 'tensorcores' | 'chips';
  devicesPerChip: number;
  hbmGiBPerChip: number;
  bf16TflopsPerChip: number;
  chipsPerHost: number;
  sliceSizes?: number[];
  runtimeVersion?: string;
  priceOnDemand: number;
  priceSpot: number;
  source: string;
}

export interface DeviceCatalog {
  updated: string;
  accelerators: Record<string, Accelerator>;
}

export interface DeviceSpec {
  kind: 'cpu' | 'tpu' | 'gpu';
  /**
   * What computes steps that have more than one runtime (embed/nt): `onnx` (onnxruntime, the default on
   * kind: cpu) or `jax`; kind: tpu and kind: gpu run JAX.
   */
  runtime?: 'onnx' | 'jax';
  /** XLA host devices the CPU is split into for runtime: jax (`--xla_force_host_platform_device_count`; default 1). */
  devices?: number;
  type?: string;
  count?: number;
  spot?: boolean;
  project?: string;
  zone?: string;
  keep?: boolean;
  /** gs://BUCKET/PREFIX where a remote step's inputs, job specs and shard markers are staged. */
  bucket?: string;
  runtime_version?: string;
  /** The command that starts Strand on each TPU VM host (default `strand`). */
  worker_command?: string;
  /** kind: tpu: nodes of `type` a shard-parallel step runs on at once (default 1; docs/tpu.md "Many slices"). */
  replicas?: number;
  /** How many times a lost (preempted) node is recreated before the step fails. */
  max_attempts?: number;
  /** Minutes without progress from a node's hosts before the step fails. */
  stall_minutes?: number;
}

export interface Placement {
  label: string;
  kind: 'cpu' | 'tpu' | 'gpu';
  chips: number;
  devices: number;
  hosts: number;
  /** Nodes of this placement a shard-parallel step runs on at once; chips, devices and prices are one node's. */
  replicas: number;
  /** Memory one device may use. */
  memoryBytesPerDevice: number;
  /** Peak bf16 FLOP/s per device (0 when unknown, e.g. a CPU). */
  flopsPerDevice: number;
  pricePerHour: { onDemand: number; spot: number };
  spot: boolean;
  /** The catalog entry (e.g. v5e, h100); absent on a CPU. */
  accelerator?: Accelerator;
  /** The TPU VM image to create nodes with (from the catalog). */
  runtimeVersion?: string;
}

export function loadDeviceCatalog(): DeviceCatalog {
  // Beside this module in the sources; the build reads it from the sources too (dist/engine/devices -> engine/devices).
  const candidates = ['./device-catalog.json', '../../../engine/devices/device-catalog.json'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  return JSON.parse(
    readFileSync(
      candidates.find((p) => existsSync(p))!,
      'utf8',
    ),
  ) as DeviceCatalog;
}

/** Resolves a device declaration; a failure is an error message with the valid choices. */
export function resolvePlacement(
  spec: DeviceSpec,
  catalog: DeviceCatalog,
  cpu: { cores: number; memoryBytes: number },
): Result<Placement, string> {
  if (spec.kind === 'cpu') {
    // Under JAX the CPU is as many XLA devices as declared; under onnxruntime, mesh data = workers over the cores
    // (undeclared: the step chooses; steps/embed/onnx-cpu-layout.ts).
    const devices = spec.runtime === 'jax' ? (spec.devices ?? 1) : cpu.cores;
    const label = spec.runtime === 'jax' ? `local cpu (jax, ${devices} host device${devices === 1 ? '' : 's'})` : 'local cpu';
    return ok({
      label,
      kind: 'cpu',
      chips: 1,
      devices,
      hosts: 1,
      replicas: 1,
      memoryBytesPerDevice: cpu.memoryBytes / devices,
      flopsPerDevice: 0,
      pricePerHour: { onDemand: 0, spot: 0 },
      spot: false,
    });
  }
  if (spec.replicas !== undefined && spec.kind !== 'tpu')
    return fail(`replicas: is for kind: tpu devices (nodes a shard-parallel step runs on at once); a ${spec.kind} device has none`);
  if (spec.type === undefined)
    return fail(`a ${spec.kind} device needs type: (e.g. ${spec.kind === 'tpu' ? 'v3-8, v5litepod-8' : 'a100-80gb, h100'})`);
  let accelerator: Accelerator | undefined;
  let chips: number;
  if (spec.kind === 'tpu') {
    const m = /^(v\d+[a-z]*|v5litepod)-(\d+)$/.exec(spec.type);
    const entry = m ? Object.entries(catalog.accelerators).find(([, a]) => a.kind === 'tpu' && a.typePrefix === m[1]) : undefined;
    if (!m || !entry)
      return fail(
        `unknown TPU type ${spec.type}; known: ${Object.values(catalog.accelerators)
          .filter((a) => a.kind === 'tpu')
          .map((a) => `${a.typePrefix}-N`)
          .join(', ')}`,
      );
    accelerator = entry[1];
    const size = Number(m[2]);
    if (!accelerator.sliceSizes?.includes(size))
      return fail(`${spec.type} is not a valid slice; sizes for ${m[1]}: ${accelerator.sliceSizes?.join(', ')}`);
    chips = accelerator.sizeCounts === 'tensorcores' ? size / 2 : size;
  } else {
    accelerator = catalog.accelerators[spec.type];
    if (accelerator === undefined || accelerator.kind !== 'gpu')
      return fail(
        `unknown GPU type ${spec.type}; known: ${Object.entries(catalog.accelerators)
          .filter(([, a]) => a.kind === 'gpu')
          .map(([k]) => k)
          .join(', ')}`,
      );
    chips = spec.count ?? 1;
  }
  const devices = chips * accelerator.devicesPerChip;
  const replicas = spec.replicas ?? 1;
  return ok({
    label: `${spec.kind} ${spec.type}${spec.kind === 'gpu' ? ` x${chips}` : ''}${replicas > 1 ? ` x${replicas} nodes` : ''}${spec.spot ? ' (spot)' : ''}`,
    kind: spec.kind,
    chips,
    devices,
    hosts: Math.ceil(chips / accelerator.chipsPerHost),
    replicas,
    memoryBytesPerDevice: (accelerator.hbmGiBPerChip * 2 ** 30) / accelerator.devicesPerChip,
    flopsPerDevice: (accelerator.bf16TflopsPerChip * 1e12) / accelerator.devicesPerChip,
    pricePerHour: { onDemand: accelerator.priceOnDemand * chips, spot: accelerator.priceSpot * chips },
    spot: spec.spot === true,
    accelerator,
    ...(accelerator.runtimeVersion !== undefined ? { runtimeVersion: accelerator.runtimeVersion } : {}),
  });
}
