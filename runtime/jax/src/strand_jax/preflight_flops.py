"""Owns the pre-flight's FLOP counting: XLA's cost_analysis of a compiled program, and its extrapolation over
the layer scan. XLA counts a lax.scan body once whatever its trip count: FLOPs(rolled, L layers) counts the
outside plus one layer, the same program with 2 layers unrolled counts the outside plus two, so
total = rolled + (L - 1) x (two - rolled). A loop around the layer scan (the train step's gradient
accumulation, `ProgramShapes.repeats`) is counted once too: the total is multiplied by its trips (which
counts the optimizer update that many times: a few FLOPs per trainable parameter, negligible beside the
forward and backward).
"""

from __future__ import annotations

from typing import Any

FLOPS_COUNTING = (
    "(rolled + (layers - 1) x (2 layers unrolled - rolled)) x outer loop trips (grad_accum):"
    " XLA counts a lax.scan body once"
)


def compiled_flops(compiled: Any) -> float:
    """FLOPs per device that XLA's cost_analysis counts for a compiled program (a scan body once)."""
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return float(cost["flops"])


def layer_scan_flops(
    rolled: float, two_layers: float | None, layers: int, repeats: int, devices: int, sequences: int
) -> dict:
    """FLOPs per device for one call and per sequence, from the rolled count and (for more than one layer)
    the count of the same program with 2 layers unrolled, extrapolated as described above."""
    total = rolled
    if layers > 1:
        assert two_layers is not None, "more than one layer needs the 2-layer unrolled count"
        total = rolled + (layers - 1) * (two_layers - rolled)
    total *= repeats
    return {
        "per_device": total,
        "per_sequence": total * devices / sequences,
        "rolled_per_device": rolled,
    }
