"""Owns turning a TPU topology name (`v5e:2x2`, `v3:2x2`, `v4:2x2x1`) into JAX devices without any TPU
present: libtpu describes the slice, and XLA compiles for its devices as it would on the real chips.

v5e and v6e slices of one host need `chips_per_host_bounds` (the host's chip grid); larger ones and the
other generations take libtpu's defaults. Needs the `libtpu` wheel (the `preflight` dependency group).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
from dataclasses import dataclass

# Generations whose single-host slices libtpu cannot bound by itself.
BOUNDED_GENERATIONS = ("v5e", "v6e")
# Most chips one v5e/v6e host has.
HOST_CHIPS = 8


class TopologyError(ValueError):
    """The topology name is malformed."""


class TopologyLibraryError(RuntimeError):
    """libtpu is missing or cannot build the topology (not the request's fault)."""


@dataclass(frozen=True)
class Topology:
    name: str
    generation: str
    dims: tuple[int, ...]
    devices: list
    device_kind: str

    @property
    def chips(self) -> int:
        return math.prod(self.dims)


def libtpu_installed() -> bool:
    return importlib.util.find_spec("libtpu") is not None


def parse_topology(name: str) -> tuple[str, tuple[int, ...]]:
    match = re.fullmatch(r"(v\d+[a-z]?):(\d+(?:x\d+){1,2})", name)
    if match is None:
        raise TopologyError(f'topology "{name}" is not GENERATION:AxB[xC] (e.g. v5e:2x2, v4:2x2x1)')
    return match.group(1), tuple(int(d) for d in match.group(2).split("x"))


def chips_per_host_bounds(generation: str, dims: tuple[int, ...]) -> tuple[int, int, int] | None:
    if generation not in BOUNDED_GENERATIONS or math.prod(dims) > HOST_CHIPS:
        return None
    padded = (*dims, 1, 1)[:3]
    return (padded[0], padded[1], padded[2])


def build_topology(name: str) -> Topology:
    """The devices of topology `name`, for a Mesh and ahead-of-time compilation."""
    generation, dims = parse_topology(name)
    if not libtpu_installed():
        raise TopologyLibraryError("libtpu is not installed (uv sync --group preflight, or pip install libtpu)")
    # libtpu takes /tmp/libtpu_lockfile so that two processes do not drive one TPU; with no TPU there is none
    # to share, and concurrent pre-flights (two plans, parallel tests) must not refuse each other.
    os.environ.setdefault("ALLOW_MULTIPLE_LIBTPU_LOAD", "1")
    from jax.experimental import topologies

    bounds = chips_per_host_bounds(generation, dims)
    try:
        described = topologies.get_topology_desc(
            platform="tpu", topology_name=name, **({"chips_per_host_bounds": bounds} if bounds else {})
        )
    except Exception as error:  # libtpu raises XlaRuntimeError / ValueError with its own text
        raise TopologyLibraryError(f'libtpu cannot build topology "{name}": {str(error).splitlines()[0]}') from None
    devices = list(described.devices)
    # A TPU device (libtpu's topology); the Device type jax declares has no device_kind.
    kind: str = getattr(devices[0], "device_kind")  # noqa: B009
    return Topology(name, generation, dims, devices, kind)
