"""Owns the pre-flight's searches, over a `measure` that compiles and answers whether a request fits: the
largest per-device batch that fits (`batch: auto`, by doubling then bisection), and fixes for a request that
does not fit (a smaller per-device batch, bf16, another mesh layout over the same devices), each of which
was itself compiled and fits at every length bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .config import ModelConfig
from .sharding import MESH_AXES, MeshError, MeshSpec, check_mesh_fits

DEFAULT_MAX_BATCH = 4096
# Mesh layouts tried as fixes, at most (each is a compilation).
MAX_MESH_FIXES = 6


class Measure(Protocol):
    """Compiles (or recalls) one (mesh, batch, length, precision): a bucket's result, with "fits" and, when it
    fits, "memory"; `precision` None is the request's own."""

    def __call__(self, mesh: MeshSpec, batch: int, length: int, precision: str | None = None) -> dict: ...


def search_batch(
    fits: Callable[[int], bool], start: int = 1, limit: int = DEFAULT_MAX_BATCH
) -> tuple[int | None, list[dict]]:
    """The largest batch in [start, limit] for which `fits(batch)` holds, assuming it is monotone: doubling
    from `start` to the first failure, then bisection. Returns (batch or None, every probe in order)."""
    tried: list[dict] = []

    def probe(batch: int) -> bool:
        ok = fits(batch)
        tried.append({"per_device_batch": batch, "fits": ok})
        return ok

    if not probe(start):
        return None, tried
    good, bad = start, None
    while bad is None and good < limit:
        candidate = min(good * 2, limit)
        if probe(candidate):
            good = candidate
        else:
            bad = candidate
    while bad is not None and bad - good > 1:
        middle = (good + bad) // 2
        if probe(middle):
            good = middle
        else:
            bad = middle
    return good, tried


def mesh_layouts(devices: int, config: ModelConfig) -> list[MeshSpec]:
    """Every (data, fsdp, tp) over `devices` that divides the model's dimensions."""
    out = []
    for fsdp in range(1, devices + 1):
        for tp in range(1, devices // fsdp + 1):
            if devices % (fsdp * tp) == 0:
                spec = MeshSpec(devices // (fsdp * tp), fsdp, tp)
                try:
                    check_mesh_fits(config, spec, devices)
                except MeshError:
                    continue
                out.append(spec)
    return out


def mesh_json(spec: MeshSpec) -> dict:
    return {axis: getattr(spec, axis) for axis in MESH_AXES}


def find_fixes(
    measure: Measure, config: ModelConfig, precision: str, mesh: MeshSpec, batch: int, length: int
) -> list[dict]:
    """Changes to the request that compile and fit at `length`: a smaller per-device batch, bf16, another
    mesh layout over the same devices. Each was compiled here."""
    fixes = []
    # Searched up to the refused batch itself (recalled, not compiled again), so that for a power of two the
    # probes are those `batch: auto` makes below it and the fix is the batch auto chooses: XLA's answer is not
    # monotone in the batch near its limit (padding, rematerialisation), and other probes can land elsewhere
    # (NT-2.5B on a v5e chip at 512: auto chose 384, a search up to 511 found 256).
    smaller, _ = search_batch(lambda b: measure(mesh, b, length)["fits"], 1, batch) if batch > 1 else (None, [])
    if smaller is not None and smaller < batch:
        fixes.append({"change": {"per_device_batch": smaller}, **_summary(measure(mesh, smaller, length))})
    if precision == "fp32":
        result = measure(mesh, batch, length, "bf16")
        if result["fits"]:
            fixes.append({"change": {"precision": "bf16"}, **_summary(result)})
    others = [m for m in mesh_layouts(mesh.size, config) if m != mesh]
    others.sort(key=lambda m: (abs(m.fsdp - mesh.fsdp) + abs(m.tp - mesh.tp), m.tp, m.fsdp))
    for other in others[:MAX_MESH_FIXES]:
        result = measure(other, batch, length)
        if result["fits"]:
            fixes.append({"change": {"mesh": mesh_json(other)}, **_summary(result)})
    return fixes


def fixes_fitting_every_bucket(
    fixes: list[dict], measure: Measure, mesh: MeshSpec, batch: int, lengths: list[int]
) -> list[dict]:
    """The fixes (found at the longest bucket) that also compile and fit at every one of `lengths`."""
    return [
        f
        for f in fixes
        if all(
            measure(_fix_mesh(f, mesh), _fix_batch(f, batch), length, f["change"].get("precision"))["fits"]
            for length in lengths
        )
    ]


def _summary(result: dict) -> dict:
    return {"length": result["length"], "total_bytes": result["memory"]["total_bytes"]}


def _fix_mesh(fix: dict, mesh: MeshSpec) -> MeshSpec:
    return MeshSpec(**fix["change"]["mesh"]) if "mesh" in fix["change"] else mesh


def _fix_batch(fix: dict, batch: int) -> int:
    return fix["change"].get("per_device_batch", batch)
