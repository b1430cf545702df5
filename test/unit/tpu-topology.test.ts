// Every TPU generation in the catalog maps to the topology libtpu compiles one host's program for.
import { describe, expect, it } from 'vitest';
import { loadDeviceCatalog, resolvePlacement } from '../../engine/devices/device-catalog.js';
import { chipGrid, hostProgram } from '../../engine/devices/tpu-topology.js';

const catalog = loadDeviceCatalog();
const cpu = { cores: 2, memoryBytes: 2 ** 34 };
const place = (type: string) => {
  const placed = resolvePlacement({ kind: 'tpu', type }, catalog, cpu);
  if (!placed.ok) throw new Error(placed.error);
  return placed.value;
};

describe('TPU topology of a host program', () => {
  it('names one host of every slice of every TPU generation, with the mesh split along data', () => {
    const names: string[] = [];
    for (const accelerator of Object.values(catalog.accelerators).filter((a) => a.kind === 'tpu')) {
      expect(accelerator.topology, accelerator.typePrefix).toBeDefined();
      for (const size of accelerator.sliceSizes!) {
        const placement = place(`${accelerator.typePrefix}-${size}`);
        const program = hostProgram(placement, { data: placement.devices, fsdp: 1, tp: 1 });
        if (accelerator.topology!.notCompiled !== undefined) {
          expect(program).toEqual({ ok: false, why: accelerator.topology!.notCompiled });
          continue;
        }
        if (!program.ok) throw new Error(program.why);
        expect(program.hosts).toBe(placement.hosts);
        expect(program.mesh.data * program.hosts).toBe(placement.devices);
        names.push(`${accelerator.typePrefix}-${size} ${program.topology}`);
      }
    }
    expect(names).toContain('v5litepod-1 v5e:1x1');
    expect(names).toContain('v5litepod-8 v5e:2x4');
    expect(names).toContain('v3-8 v3:2x2');
    expect(names).toContain('v5p-8 v5p:2x2x1');
    expect(names).toContain('v6e-4 v6e:2x2');
  });

  it('compiles a training step as one program over the whole slice, with the whole mesh', () => {
    const mesh = { data: 8, fsdp: 2, tp: 1 };
    expect(hostProgram(place('v5litepod-16'), mesh, true)).toEqual({ ok: true, topology: 'v5e:4x4', mesh, hosts: 1 });
    expect(hostProgram(place('v6e-16'), mesh, true)).toEqual({ ok: true, topology: 'v6e:4x4', mesh, hosts: 1 });
    expect(hostProgram(place('v5p-16'), { data: 8, fsdp: 1, tp: 1 }, true)).toMatchObject({ ok: true, topology: 'v5p:2x2x2', hosts: 1 });
    // The same slice for a shard-parallel step: one host's program, data split over the hosts.
    expect(hostProgram(place('v5litepod-16'), mesh)).toMatchObject({ ok: true, hosts: place('v5litepod-16').hosts });
  });

  it('lays chips out as libtpu names slices', () => {
    expect(chipGrid(1, 2)).toEqual([1, 1]);
    expect(chipGrid(8, 2)).toEqual([2, 4]);
    expect(chipGrid(16, 2)).toEqual([4, 4]);
    expect(chipGrid(4, 3)).toEqual([2, 2, 1]);
    expect(chipGrid(8, 3)).toEqual([2, 2, 2]);
  });

  it('leaves GPUs to the formula, saying why', () => {
    const gpu = resolvePlacement({ kind: 'gpu', type: 'h100' }, catalog, cpu);
    expect(gpu.ok && hostProgram(gpu.value, { data: 1, fsdp: 1, tp: 1 })).toEqual({
      ok: false,
      why: 'GPUs have no deviceless compile here (XLA needs the GPU itself)',
    });
  });
});
