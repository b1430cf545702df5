// The placement formula (engine/devices/estimate-placement.ts), which is all a plan has on a GPU or a v4, held
// against XLA's own answers: the committed grid bench/xla-memory-grid.json (runtime/jax/bench/xla_memory_grid.py
// compiled the runtime's embed forward and LoRA train step for TPU topologies with libtpu: NT v1 and v2 shapes
// from 50M to 2.5B parameters, per-device batch 8-512, 128-1,000 tokens, fp32 and bf16, v5e and v6e, fsdp and
// tp meshes, a two-host slice). Within 25% wherever XLA kept one layer's attention scores whole; where XLA
// rematerialised under memory pressure (its temporaries smaller than those scores) the formula may only err
// on the safe side.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDeviceCatalog, resolvePlacement, type Placement } from '../../engine/devices/device-catalog.js';
import { estimatePlacement } from '../../engine/devices/estimate-placement.js';
import { loraTrainedParameters } from '../../engine/devices/lora-trained-parameters.js';
import { factsFromConfig } from '../../engine/devices/model-facts.js';
import type { TrainSettings } from '../../engine/jax/jax-job.js';
import { hostProgram } from '../../engine/devices/tpu-topology.js';
import { REPO } from '../helpers/project.js';

interface GridRow {
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
    | { fits: boolean; memory: { total_bytes: number; temp_bytes: number } }
    | { fits: false; xla: { required_bytes: number }; parameter_bytes: number };
}

const grid = JSON.parse(readFileSync(join(REPO, 'bench/xla-memory-grid.json'), 'utf8')) as { rows: GridRow[] };
const catalog = loadDeviceCatalog();
// The train step's settings the grid compiled with (nt-lora's defaults, as the runtime's tests use them).
const TRAIN_SETTINGS = JSON.parse(readFileSync(join(REPO, 'runtime/jax/tests/nt_lora_default_options.json'), 'utf8')) as TrainSettings;

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

function compare(row: GridRow) {
  const placement = sliceOf(row);
  const mesh = { ...row.mesh, data: row.mesh.data * row.hosts };
  const program = hostProgram(placement, mesh);
  const training = row.program === 'train-step';
  const model = { ...factsFromConfig(row.model_config), parameters: row.parameters };
  // What a plan of finetune/nt-lora counts as training: the adapters of the grid's train settings.
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
  const c = row.model_config as { num_attention_heads: number };
  const scoreBytes = row.per_device_batch * (c.num_attention_heads / row.mesh.tp) * row.length ** 2 * 4;
  return { program, formula: estimate.memory.total!, xla, wholeScores: temporaries >= scoreBytes };
}

const label = (r: GridRow) =>
  `${r.model} ${r.program} ${r.topology}${r.hosts > 1 ? ` x${r.hosts} hosts` : ''} mesh ${r.mesh.data}x${r.mesh.fsdp}x${r.mesh.tp} ${r.precision} ${r.per_device_batch}/dev x ${r.length}`;

describe('the memory formula against XLA on the committed grid', () => {
  it('covers what the plans meet: both programs and precisions, v5e and v6e, fsdp and tp, two hosts, 50M to 2.5B', () => {
    const rows = grid.rows;
    expect(rows.every((r) => 'memory' in r.answer || 'xla' in r.answer)).toBe(true); // no row without XLA's answer
    expect(new Set(rows.map((r) => r.program))).toEqual(new Set(['embed-forward', 'train-step']));
    expect(new Set(rows.map((r) => r.precision))).toEqual(new Set(['fp32', 'bf16']));
    expect(new Set(rows.map((r) => r.topology.split(':')[0]))).toEqual(new Set(['v5e', 'v6e']));
    expect(rows.some((r) => r.mesh.fsdp > 1) && rows.some((r) => r.mesh.tp > 1) && rows.some((r) => r.hosts > 1)).toBe(true);
    expect(Math.min(...rows.map((r) => r.parameters))).toBeLessThan(60e6);
    expect(Math.max(...rows.map((r) => r.parameters))).toBeGreaterThan(2.4e9);
  });

  it.each(grid.rows.map((r) => [label(r), r] as const))('%s', (_, row) => {
    const { program, formula, xla, wholeScores } = compare(row);
    // The row is the program the plan compiles for that slice.
    expect(program).toMatchObject({ ok: true, topology: row.topology, hosts: row.hosts });
    if (wholeScores) expect(Math.abs(formula / xla - 1)).toBeLessThanOrEqual(0.25);
    else expect(formula).toBeGreaterThanOrEqual(xla);
  });
});
