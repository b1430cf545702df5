// Owns reading the committed grid of XLA's memory answers (bench/xla-memory-grid.json, written by
// runtime/jax/bench/xla_memory_grid.py) and putting the placement formula beside each row, as a plan would
// compute it for that slice: the model's facts from its config.json and parameter count, nt-lora's adapters
// as what trains. Used by the test that holds the formula to XLA and by bench/preflight.ts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDeviceCatalog, resolvePlacement, type Placement } from '../engine/devices/device-catalog.js';
import { estimatePlacement } from '../engine/devices/estimate-placement.js';
import { loraTrainedParameters } from '../engine/devices/lora-trained-parameters.js';
import { factsFromConfig } from '../engine/devices/model-facts.js';
import { hostProgram, type HostProgram } from '../engine/devices/tpu-topology.js';
import type { TrainSettings } from '../engine/jax/jax-job.js';

export interface GridRow {
  model: string;
  program: 'embed-forward' | 'train-step';
  topology: string;
  hosts: number;
  mesh: { data: number; fsdp: number; tp: number };
  precision: 'fp32' | 'bf16';
  per_device_batch: number;
  length: number;
  parameters: number;
  model_config: Record<string, unknown>;
  answer:
    | { fits: boolean; compile_seconds: number; memory: { total_bytes: number; temp_bytes: number } }
    | { fits: false; compile_seconds: number; xla: { required_bytes: number }; parameter_bytes: number };
}

export interface GridComparison {
  /** The per-host program a plan compiles for the row's slice (the row must be it). */
  program: HostProgram;
  formula: number;
  xla: number;
  /** Whether XLA kept one layer's float32 attention scores whole (else it rematerialised under memory pressure). */
  wholeScores: boolean;
  /** Whether the formula says it does not fit (memory-exceeded). */
  formulaRefuses: boolean;
}

// The repository root from bench/ (under vitest) or dist/bench/ (the built benches).
const here = dirname(fileURLToPath(import.meta.url));
const REPO = existsSync(join(here, '../package.json')) ? resolve(here, '..') : resolve(here, '../..');

export function gridRows(): GridRow[] {
  return (JSON.parse(readFileSync(join(REPO, 'bench/xla-memory-grid.json'), 'utf8')) as { rows: GridRow[] }).rows;
}

// The train step's settings the grid compiled with (nt-lora's defaults, as the runtime's tests use them).
const TRAIN_SETTINGS = JSON.parse(readFileSync(join(REPO, 'runtime/jax/tests/nt_lora_default_options.json'), 'utf8')) as TrainSettings;
const catalog = loadDeviceCatalog();

/** The slice a row's per-host program stands for (v5e:2x4 on 2 hosts is a v5litepod-16). */
function sliceOf(row: GridRow): Placement {
  const [generation, grid] = row.topology.split(':') as [string, string];
  const chips = grid.split('x').reduce((a, b) => a * Number(b), 1) * row.hosts;
  const [name, accelerator] = Object.entries(catalog.accelerators).find(([, a]) => a.topology?.name === generation)!;
  const placed = resolvePlacement({ kind: 'tpu', type: `${accelerator.typePrefix ?? name}-${chips}` }, catalog, {
    cores: 2,
    memoryBytes: 2 ** 34,
  });
  if (!placed.ok) throw new Error(placed.error);
  return placed.value;
}

export function compareWithXla(row: GridRow): GridComparison {
  const placement = sliceOf(row);
  const mesh = { ...row.mesh, data: row.mesh.data * row.hosts };
  const training = row.program === 'train-step';
  const model = { ...factsFromConfig(row.model_config), parameters: row.parameters };
  const trained = training ? loraTrainedParameters(TRAIN_SETTINGS.lora, model) : undefined;
  const estimate = estimatePlacement({
    placement,
    mesh,
    batch: { per_device: row.per_device_batch },
    precision: row.precision,
    model,
    tokens: row.length,
    training,
    ...(trained !== undefined ? { trainedParameters: trained } : {}),
  });
  const a = row.answer;
  const xla = 'memory' in a ? a.memory.total_bytes : a.parameter_bytes + a.xla.required_bytes;
  const temporaries = 'memory' in a ? a.memory.temp_bytes : a.xla.required_bytes;
  const heads = (row.model_config as { num_attention_heads: number }).num_attention_heads;
  const scoreBytes = row.per_device_batch * (heads / row.mesh.tp) * row.length ** 2 * 4;
  return {
    program: hostProgram(placement, mesh),
    formula: estimate.memory.total!,
    xla,
    wholeScores: temporaries >= scoreBytes,
    formulaRefuses: estimate.problems.some((p) => p.code === 'memory-exceeded'),
  };
}

export const gridRowLabel = (r: GridRow): string =>
  `${r.model} ${r.program} ${r.topology}${r.hosts > 1 ? ` x${r.hosts} hosts` : ''} mesh ${r.mesh.data}x${r.mesh.fsdp}x${r.mesh.tp} ${r.precision} ${r.per_device_batch}/dev x ${r.length}`;
