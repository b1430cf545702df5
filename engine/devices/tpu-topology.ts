// Owns naming the TPU topology a step's program is compiled for at plan time (the pre-flight): libtpu's
// `GENERATION:AxB` (v2, v3, v5e, v6e) or `GENERATION:AxBxC` (v4, v5p). A shard-parallel step runs one
// independent program per host over its own chips, the mesh split along data (docs/tpu.md, "Multi-host
// slices"): its topology is ONE host's. A training step runs one program over every host of the slice
// (jax.distributed): its topology is the whole slice's, with the whole mesh. Pure; every TPU generation in
// the catalog has a `topology` entry (a test checks).
import type { Placement } from './device-catalog.js';
import type { Mesh } from './estimate-placement.js';

/** `hosts`: how many copies of the compiled program the slice runs (one per host, or 1 for the whole slice). */
export type HostProgram = { ok: true; topology: string; mesh: Mesh; hosts: number } | { ok: false; why: string };

/** Chips as a grid, as libtpu names slices: 2-D x<=y (powers of two); 3-D 2x2xN (one v4/v5p host is 2x2x1). */
export function chipGrid(chips: number, axes: 2 | 3): number[] {
  if (axes === 2) {
    const x = 2 ** Math.floor(Math.log2(Math.sqrt(chips)));
    return [x, chips / x];
  }
  if (chips < 4) return [chips, 1, 1];
  return [2, 2, chips / 4];
}

/**
 * The topology and mesh of the program `placement` runs: one host's share (`wholeSlice` false), or one
 * program over all of its chips (`wholeSlice`: a training step, whatever the host count).
 */
export function hostProgram(placement: Placement, mesh: Mesh, wholeSlice = false): HostProgram {
  const accelerator = placement.accelerator;
  if (placement.kind !== 'tpu' || accelerator?.topology === undefined) {
    return {
      ok: false,
      why: placement.kind === 'gpu' ? 'GPUs have no deviceless compile here (XLA needs the GPU itself)' : `${placement.label} is not a TPU`,
    };
  }
  if (accelerator.topology.notCompiled !== undefined) return { ok: false, why: accelerator.topology.notCompiled };
  if (wholeSlice) {
    const grid = chipGrid(placement.chips, accelerator.topology.axes);
    return { ok: true, topology: `${accelerator.topology.name}:${grid.join('x')}`, mesh, hosts: 1 };
  }
  const hostChips = Math.min(placement.chips, accelerator.chipsPerHost);
  const hosts = placement.chips / hostChips;
  if (!Number.isInteger(hosts) || mesh.data % hosts !== 0) {
    return { ok: false, why: `mesh data ${mesh.data} does not split over the slice's ${Math.ceil(hosts)} hosts` };
  }
  const topology = `${accelerator.topology.name}:${chipGrid(hostChips, accelerator.topology.axes).join('x')}`;
  return { ok: true, topology, mesh: { ...mesh, data: mesh.data / hosts }, hosts };
}
