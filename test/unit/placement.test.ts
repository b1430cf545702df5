import { describe, expect, it } from 'vitest';
import { loadDeviceCatalog, resolvePlacement, type Placement } from '../../engine/devices/device-catalog.js';
import { estimatePlacement, estimateRunTime, shardsPerNode } from '../../engine/devices/estimate-placement.js';

const catalog = loadDeviceCatalog();
const cpu = { cores: 2, memoryBytes: 24 * 2 ** 30 };
const NT_2_5B = { parameters: 2.5e9, layers: 32, hidden: 2560, heads: 20 };
function place(spec: Parameters<typeof resolvePlacement>[0]): Placement {
  const resolved = resolvePlacement(spec, catalog, cpu);
  if (!resolved.ok) throw new Error(resolved.error);
  return resolved.value;
}

describe('device catalog', () => {
  it('counts chips and JAX devices by TPU generation', () => {
    expect(place({ kind: 'tpu', type: 'v3-8' })).toMatchObject({ chips: 4, devices: 8, hosts: 1 });
    expect(place({ kind: 'tpu', type: 'v4-8' })).toMatchObject({ chips: 4, devices: 4, hosts: 1 });
    expect(place({ kind: 'tpu', type: 'v5litepod-8' })).toMatchObject({ chips: 8, devices: 8, hosts: 1 });
    expect(place({ kind: 'tpu', type: 'v5p-16' })).toMatchObject({ chips: 8, devices: 8, hosts: 2 });
    expect(place({ kind: 'tpu', type: 'v6e-16' })).toMatchObject({ chips: 16, devices: 16, hosts: 2 });
    expect(place({ kind: 'gpu', type: 'h100', count: 8 })).toMatchObject({ chips: 8, devices: 8, hosts: 1 });
  });

  it('gives memory per device and prices per slice-hour', () => {
    const v3 = place({ kind: 'tpu', type: 'v3-8', spot: true });
    expect(v3.memoryBytesPerDevice).toBe(16 * 2 ** 30);
    expect(v3.pricePerHour).toEqual({ onDemand: 8, spot: 2.04 });
  });

  it('explains an unknown type or slice size', () => {
    expect(resolvePlacement({ kind: 'tpu', type: 'v3-6' }, catalog, cpu)).toEqual({
      ok: false,
      error: expect.stringMatching(/v3-6 is not a valid slice; sizes for v3: 8, 32/),
    });
    expect(resolvePlacement({ kind: 'tpu', type: 'v9-8' }, catalog, cpu)).toEqual({
      ok: false,
      error: expect.stringMatching(/unknown TPU type v9-8/),
    });
    expect(resolvePlacement({ kind: 'gpu', type: 'k80' }, catalog, cpu)).toEqual({
      ok: false,
      error: expect.stringMatching(/unknown GPU type k80; known: a100-40gb/),
    });
  });
});

describe('placement estimates', () => {
  it('spreads the shards over replicas: the busiest node sets the time, every node counts in the cost', () => {
    const one = place({ kind: 'tpu', type: 'v4-8', spot: true });
    const three = place({ kind: 'tpu', type: 'v4-8', spot: true, replicas: 3 });
    expect(three.label).toBe('tpu v4-8 x3 nodes (spot)');
    const input = { batch: { global: 64 } as const, precision: 'bf16' as const, model: NT_2_5B, tokens: 1000, training: false };
    const alone = estimateRunTime(estimatePlacement({ ...input, placement: one }), one, { count: 8000, shards: 8 });
    const spread = estimateRunTime(estimatePlacement({ ...input, placement: three }), three, { count: 8000, shards: 8 });
    expect(spread.nodes).toEqual({ replicas: 3, shardsPerNode: [3, 3, 2] });
    expect(spread.seconds).toBeCloseTo((alone.seconds! * 3) / 8);
    expect(spread.cost).toEqual(alone.cost);
    expect(spread.chipHours).toEqual(alone.chipHours);
    expect(alone.nodes).toBeUndefined();
    expect(shardsPerNode(2, 3)).toEqual([1, 1, 0]);
  });

  const v3 = place({ kind: 'tpu', type: 'v3-8' });
  const base = { placement: v3, batch: { global: 64 } as const, precision: 'bf16' as const, model: NT_2_5B, tokens: 1000, training: false };

  it('matches the NT-2.5B on v3-8 anchor (45,000-80,000 sequences of 1,000 tokens per hour)', () => {
    const e = estimateRunTime(estimatePlacement(base), v3, { count: 60_000 });
    const perHour = 60_000 / (e.seconds! / 3600);
    expect(perHour).toBeGreaterThanOrEqual(45_000);
    expect(perHour).toBeLessThanOrEqual(80_000);
    expect(e.flopsPerSequence).toBe(5e12);
    expect(e.chipHours).toBeCloseTo((e.seconds! / 3600) * 4, 9);
    expect(e.problems).toEqual([]);
    expect(e.perDeviceBatch).toBe(8);
  });

  it('checks the mesh against the devices and the heads', () => {
    const e = estimatePlacement({ ...base, mesh: { data: 2, tp: 3 } });
    expect(e.problems.map((p) => p.code)).toEqual(['mesh-device-mismatch', 'mesh-heads-mismatch']);
    expect(e.problems[0]!.message).toBe('mesh data 2 x fsdp 1 x tp 3 = 6, but tpu v3-8 has 8 devices');
  });

  it('checks that the global batch divides over data x fsdp', () => {
    const e = estimatePlacement({ ...base, batch: { global: 60 } });
    expect(e.problems[0]).toMatchObject({ code: 'batch-mesh-mismatch', hint: 'use a multiple of 8, e.g. 64' });
  });

  it('refuses what does not fit, with the estimate, the limit and fixes', () => {
    const e = estimatePlacement({ ...base, precision: 'fp32', batch: { per_device: 64 } });
    expect(e.problems[0]!.code).toBe('memory-exceeded');
    expect(e.problems[0]!.message).toMatch(
      /^needs \d+\.\d\d GiB per device \(parameters 9\.31 GiB, activations .*\), more than 13\.60 GiB \(tpu v3-8 with 15% headroom\)$/,
    );
    expect(e.problems[0]!.hint).toContain('precision: bf16');
  });

  it('picks the largest per-device batch that fits with batch: auto', () => {
    const e = estimatePlacement({ ...base, batch: 'auto' });
    expect(e.problems).toEqual([]);
    const bigger = estimatePlacement({ ...base, batch: { per_device: e.perDeviceBatch * 2 } });
    expect(bigger.problems.map((p) => p.code)).toEqual(['memory-exceeded']);
  });

  it('counts AdamW state for training, and only adapters for LoRA', () => {
    const full = estimatePlacement({ ...base, training: true, batch: { per_device: 1 } });
    expect(full.memory.optimizer).toBe(2.5e9 * 12);
    const lora = estimatePlacement({ ...base, training: true, batch: { per_device: 1 }, trainedParameters: 4e6 });
    expect(lora.memory.optimizer).toBe(4e6 * 12);
    expect(lora.memory.parameters).toBe(2.5e9 * 2);
    expect(full.flopsPerSequence).toBe(6 * 2.5e9 * 1000);
  });
});
