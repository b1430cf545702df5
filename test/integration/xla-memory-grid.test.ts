// The placement formula (engine/devices/estimate-placement.ts), which is all a plan has on a GPU or a v4, held
// against XLA's own answers: the committed grid bench/xla-memory-grid.json (runtime/jax/bench/xla_memory_grid.py
// compiled the runtime's embed forward and LoRA train step for TPU topologies with libtpu: NT v1 and v2 shapes
// from 50M to 2.5B parameters, per-device batch 8-512, 128-1,000 tokens, fp32 and bf16, v5e and v6e, fsdp and
// tp meshes, a two-host slice). Within 25% wherever XLA kept one layer's attention scores whole; where XLA
// rematerialised under memory pressure (its temporaries smaller than those scores) the formula may only err
// on the safe side.
import { describe, expect, it } from 'vitest';
import { compareWithXla, gridRowLabel, gridRows } from '../../bench/xla-memory-grid.js';

const rows = gridRows();

describe('the memory formula against XLA on the committed grid', () => {
  it('covers what the plans meet: both programs and precisions, v5e and v6e, fsdp and tp, two hosts, 50M to 2.5B', () => {
    expect(rows.every((r) => 'memory' in r.answer || 'xla' in r.answer)).toBe(true); // no row without XLA's answer
    expect(new Set(rows.map((r) => r.program))).toEqual(new Set(['embed-forward', 'train-step']));
    expect(new Set(rows.map((r) => r.precision))).toEqual(new Set(['fp32', 'bf16']));
    expect(new Set(rows.map((r) => r.topology.split(':')[0]))).toEqual(new Set(['v5e', 'v6e']));
    expect(rows.some((r) => r.mesh.fsdp > 1) && rows.some((r) => r.mesh.tp > 1) && rows.some((r) => r.hosts > 1)).toBe(true);
    expect(Math.min(...rows.map((r) => r.parameters))).toBeLessThan(60e6);
    expect(Math.max(...rows.map((r) => r.parameters))).toBeGreaterThan(2.4e9);
  });

  it.each(rows.map((r) => [gridRowLabel(r), r] as const))('%s', (_, row) => {
    const { program, formula, xla, wholeScores, formulaRefuses } = compareWithXla(row);
    // The row is the program the plan compiles for that slice.
    expect(program).toMatchObject({ ok: true, topology: row.topology, hosts: row.hosts });
    if (wholeScores) expect(Math.abs(formula / xla - 1)).toBeLessThanOrEqual(0.25);
    else expect(formula).toBeGreaterThanOrEqual(xla);
    // What XLA refuses, the formula refuses too (against the same chip's HBM, less the formula's headroom).
    if (!row.answer.fits) expect(formulaRefuses).toBe(true);
  });
});
