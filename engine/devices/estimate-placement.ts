// Owns the checks and estimates made before anything runs: the mesh against the device count and the
// model's heads, the batch against the mesh, memory per device against its limit (with 15% headroom),
// and FLOPs, time and cost. Pure arithmetic over documented assumptions. A fact the model does not give
// leaves its part of the estimate out (activations need layers and hidden), never counted as zero.
//
// Memory is what XLA keeps live at the peak of the runtime's programs (runtime/jax model.py), per device:
// the parameters (sharded over fsdp x tp), the optimizer state of what trains, and the activations of ONE
// layer at a time (the layers run in a lax.scan) — attention scores (batch x heads/tp x tokens^2, float32
// whatever the precision), the feed-forward block (batch x tokens x ffn/tp) and the hidden state — plus, in
// training with remat (the trainer's default), each layer's saved input. The bytes per element are fitted
// to XLA's own answers for NT v1 and v2 shapes (bench/xla-memory-grid.json); the formula is held to 25% of
// XLA on every row of that grid where XLA kept the scores whole (test/integration/xla-memory-grid.test.ts).
import type { ModelFacts } from './model-facts.js';
import type { Placement } from './device-catalog.js';

export interface Mesh {
  data: number;
  fsdp: number;
  tp: number;
}

export type BatchSpec = { global: number } | { per_device: number } | 'auto';

/**
 * Bytes XLA keeps live per activation element (fitted to bench/xla-memory-grid.json): `scores` per element of
 * one layer's attention scores (float32), `ffn` and `hidden` per element and per byte of the precision, and in
 * training `savedInputs` per element of every layer's input kept for the backward pass (per precision byte).
 */
export const ACTIVATION_BYTES = {
  inference: { scores: 4, ffn: 1.25, hidden: 0.3, savedInputs: 0 },
  training: { scores: 8, ffn: 2.5, hidden: 1, savedInputs: 2 },
} as const;
/** When the model does not say: the head width of NT and BERT-like models, and the usual FFN of 4 x hidden. */
export const ASSUMED_HEAD_WIDTH = 64;
export const ASSUMED_FFN_PER_HIDDEN = 4;
/** Share of peak FLOP/s reached. 0.2 for inference matches NT-2.5B on a v3-8 at 45,000-80,000 sequences of 1,000 tokens per hour. */
export const UTILISATION = { inference: 0.2, training: 0.35 } as const;
export const HEADROOM = 0.15;
const BYTES: Record<string, number> = { fp32: 4, bf16: 2 };

export type PlacementProblem =
  | { code: 'mesh-device-mismatch'; message: string; hint: string }
  | { code: 'mesh-heads-mismatch'; message: string; hint: string }
  | { code: 'mesh-model-mismatch'; message: string; hint: string }
  | { code: 'batch-mesh-mismatch'; message: string; hint: string }
  | { code: 'memory-exceeded'; message: string; hint: string };

export interface PlacementEstimate {
  mesh: Mesh;
  perDeviceBatch: number;
  globalBatch: number;
  /** `activations` and `total` are absent when the model's layers or hidden size are unknown. */
  memory: { parameters: number; activations?: number; optimizer: number; total?: number; limit: number };
  flopsPerSequence: number;
  /** Seconds per sequence at the catalog's utilisation, when the device's peak FLOP/s is known. */
  secondsPerSequence?: number;
  /** Whole-step estimates when the number of sequences is known (`estimateRunTime`). */
  sequences?: number;
  seconds?: number;
  /** With `replicas:` over 1: the nodes, and the shards each gets when hosts of equal speed claim them. */
  nodes?: { replicas: number; shardsPerNode?: number[] };
  chipHours?: number;
  cost?: { onDemand: number; spot: number };
  problems: PlacementProblem[];
}

export interface EstimateInput {
  placement: Placement;
  mesh?: Partial<Mesh>;
  batch: BatchSpec;
  precision: 'fp32' | 'bf16';
  model: ModelFacts & { parameters: number };
  tokens: number;
  training: boolean;
  /** Trained parameters when only adapters train (LoRA); all parameters otherwise. */
  trainedParameters?: number;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** Per-device batch when `batch:` gives none, and for `batch: auto` when activations cannot be sized. */
export const DEFAULT_PER_DEVICE_BATCH = 8;

function memoryFor(input: EstimateInput, mesh: Mesh, perDeviceBatch: number): PlacementEstimate['memory'] {
  const bytes = BYTES[input.precision]!;
  const shards = mesh.fsdp * mesh.tp;
  // The base, trained or frozen, is held in the step's precision (the trainer casts it; XLA's arguments agree).
  const parameters = (input.model.parameters * bytes) / shards;
  const optimizer = input.training ? ((input.trainedParameters ?? input.model.parameters) * 12) / shards : 0;
  const limit = input.placement.memoryBytesPerDevice * (1 - HEADROOM);
  const { hidden, layers } = input.model;
  if (hidden === undefined || layers === undefined) return { parameters, optimizer, limit };
  const heads = input.model.heads ?? Math.max(1, Math.round(hidden / ASSUMED_HEAD_WIDTH));
  const ffn = input.model.ffn ?? ASSUMED_FFN_PER_HIDDEN * hidden;
  const k = ACTIVATION_BYTES[input.training ? 'training' : 'inference'];
  const tokens = perDeviceBatch * input.tokens;
  const activations =
    perDeviceBatch * (heads / mesh.tp) * input.tokens ** 2 * k.scores +
    tokens * (ffn / mesh.tp) * k.ffn * bytes +
    tokens * hidden * (k.hidden + layers * k.savedInputs) * bytes;
  return { parameters, activations, optimizer, total: parameters + activations + optimizer, limit };
}

/** What is known to be needed: the total, or without activations a lower bound. */
function needed(memory: PlacementEstimate['memory']): number {
  return memory.total ?? memory.parameters + memory.optimizer;
}

export function estimatePlacement(input: EstimateInput): PlacementEstimate {
  const problems: PlacementProblem[] = [];
  const devices = input.placement.devices;
  const mesh: Mesh = { data: input.mesh?.data ?? (input.mesh ? 1 : devices), fsdp: input.mesh?.fsdp ?? 1, tp: input.mesh?.tp ?? 1 };
  const product = mesh.data * mesh.fsdp * mesh.tp;
  if (product !== devices) {
    problems.push({
      code: 'mesh-device-mismatch',
      message: `mesh data ${mesh.data} x fsdp ${mesh.fsdp} x tp ${mesh.tp} = ${product}, but ${input.placement.label} has ${devices} devices`,
      hint: `make the product ${devices}, e.g. mesh: { data: ${devices} }`,
    });
  }
  if (input.model.heads !== undefined && input.model.heads % mesh.tp !== 0) {
    problems.push({
      code: 'mesh-heads-mismatch',
      message: `tp ${mesh.tp} does not divide the model's ${input.model.heads} attention heads`,
      hint: `use a tp that divides ${input.model.heads}`,
    });
  }
  // What the JAX runtime's sharding refuses (runtime/jax sharding.py check_mesh_fits): fsdp shards the
  // hidden dimension, tp the feed-forward one. Found here, before a node is paid for.
  const { hidden, ffn } = input.model;
  if (hidden !== undefined && hidden % mesh.fsdp !== 0)
    problems.push({
      code: 'mesh-model-mismatch',
      message: `fsdp ${mesh.fsdp} does not divide the model's hidden size ${hidden}`,
      hint: `use an fsdp that divides ${hidden}`,
    });
  if (ffn !== undefined && ffn % mesh.tp !== 0)
    problems.push({
      code: 'mesh-model-mismatch',
      message: `tp ${mesh.tp} does not divide the model's feed-forward size ${ffn}`,
      hint: `use a tp that divides ${ffn}`,
    });
  const replicas = mesh.data * mesh.fsdp;
  let perDeviceBatch: number;
  if (input.batch === 'auto' && memoryFor(input, mesh, 1).total === undefined) perDeviceBatch = DEFAULT_PER_DEVICE_BATCH;
  else if (input.batch === 'auto') {
    perDeviceBatch = 0;
    for (let b = 1; b <= 65536; b *= 2) {
      const memory = memoryFor(input, mesh, b);
      if (needed(memory) <= memory.limit) perDeviceBatch = b;
      else break;
    }
    if (perDeviceBatch === 0) perDeviceBatch = 1; // reported below as not fitting
  } else if ('global' in input.batch) {
    perDeviceBatch = input.batch.global / replicas;
    if (!Number.isInteger(perDeviceBatch)) {
      problems.push({
        code: 'batch-mesh-mismatch',
        message: `global batch ${input.batch.global} is not divisible by data x fsdp = ${replicas}`,
        hint: `use a multiple of ${replicas}, e.g. ${Math.max(1, Math.round(input.batch.global / replicas)) * replicas}`,
      });
      perDeviceBatch = Math.floor(perDeviceBatch) || 1;
    }
  } else perDeviceBatch = input.batch.per_device;
  const memory = memoryFor(input, mesh, perDeviceBatch);
  if (needed(memory) > memory.limit) {
    const fixes = [`a smaller batch (per device ${Math.max(1, Math.floor(perDeviceBatch / 2))})`];
    if (input.precision === 'fp32') fixes.push('precision: bf16');
    if (mesh.data > 1)
      fixes.push(
        `more fsdp (e.g. mesh: { data: ${mesh.data / 2 >= 1 ? Math.floor(mesh.data / 2) : 1}, fsdp: ${mesh.fsdp * 2}, tp: ${mesh.tp} })`,
      );
    fixes.push('a device with more memory');
    problems.push({
      code: 'memory-exceeded',
      message:
        memory.activations === undefined
          ? `needs at least ${gib(needed(memory))} per device before activations (parameters ${gib(memory.parameters)}, optimizer ${gib(memory.optimizer)}), more than ${gib(memory.limit)} (${input.placement.label} with ${HEADROOM * 100}% headroom)`
          : `needs ${gib(needed(memory))} per device (parameters ${gib(memory.parameters)}, activations ${gib(memory.activations)}, optimizer ${gib(memory.optimizer)}), more than ${gib(memory.limit)} (${input.placement.label} with ${HEADROOM * 100}% headroom)`,
      hint: `try ${fixes.join(', or ')}`,
    });
  }
  const flopsPerSequence = (input.training ? 6 : 2) * input.model.parameters * input.tokens;
  const estimate: PlacementEstimate = { mesh, perDeviceBatch, globalBatch: perDeviceBatch * replicas, memory, flopsPerSequence, problems };
  if (input.placement.flopsPerDevice > 0)
    estimate.secondsPerSequence =
      flopsPerSequence / (input.placement.flopsPerDevice * devices * UTILISATION[input.training ? 'training' : 'inference']);
  return estimate;
}

/**
 * The shards each of `replicas` nodes computes when their hosts claim shards as they free up and run at one
 * speed: handed out in turn, so the first `shards % replicas` nodes get one more.
 */
export function shardsPerNode(shards: number, replicas: number): number[] {
  return Array.from({ length: replicas }, (_, node) => Math.floor(shards / replicas) + (node < shards % replicas ? 1 : 0));
}

/**
 * The estimate with the whole step's time and cost for `count` sequences (unchanged on a device without a
 * FLOP rate). Over `replicas` nodes the time is the busiest node's share of the shards (every node's share
 * when the shards are unknown), and chip-hours and cost are every node's: a node is deleted when its hosts
 * find nothing left to claim, so the nodes together bill the one-node time (boot and the tail left out).
 */
export function estimateRunTime(
  estimate: PlacementEstimate,
  placement: Placement,
  { count: sequences, shards }: { count: number; shards?: number },
): PlacementEstimate {
  if (estimate.secondsPerSequence === undefined) return estimate;
  const nodeSeconds = sequences * estimate.secondsPerSequence;
  const replicas = placement.replicas;
  const perNode = replicas > 1 && shards !== undefined && shards > 0 ? shardsPerNode(shards, replicas) : undefined;
  const seconds = replicas === 1 ? nodeSeconds : perNode ? (nodeSeconds * perNode[0]!) / shards! : nodeSeconds / replicas;
  const hours = nodeSeconds / 3600;
  return {
    ...estimate,
    sequences,
    seconds,
    ...(replicas > 1 ? { nodes: { replicas, ...(perNode ? { shardsPerNode: perNode } : {}) } } : {}),
    chipHours: hours * placement.chips,
    cost: { onDemand: hours * placement.pricePerHour.onDemand, spot: hours * placement.pricePerHour.spot },
  };
}
