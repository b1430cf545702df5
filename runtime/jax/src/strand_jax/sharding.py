"""Owns how logical axes map onto the (data, fsdp, tp) device mesh, declared once (MaxText style).

Parameters: the hidden dimension over fsdp, attention heads and the feed-forward dimension over tp,
everything else replicated. Activations: the batch over data x fsdp, heads/ffn over tp. A mesh whose
axes do not divide the dimensions they shard is refused before anything is placed on devices. The mesh's
shape itself (MeshSpec) is mesh_spec.py's, which needs no JAX.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .config import ModelConfig
from .mesh_spec import MESH_AXES, MeshError, MeshSpec
from .params import param_axes

LOGICAL_RULES: dict[str, str | tuple[str, ...] | None] = {
    # parameters
    "embed": "fsdp",
    "heads": "tp",
    "ffn": "tp",
    "vocab": None,
    "positions": None,
    "layers": None,
    "head_dim": None,
    # activations
    "act_batch": ("data", "fsdp"),
    "act_length": None,
    "act_embed": None,
    "act_heads": "tp",
    "act_ffn": "tp",
}


def logical_to_spec(axes: tuple[str | None, ...]) -> PartitionSpec:
    return PartitionSpec(*(None if a is None else LOGICAL_RULES[a] for a in axes))


def check_mesh_fits(config: ModelConfig, spec: MeshSpec, devices: int | None = None) -> None:
    """Raises MeshError naming the axis and the dimension it does not divide."""
    if devices is not None and spec.size != devices:
        raise MeshError(
            f"mesh data={spec.data} fsdp={spec.fsdp} tp={spec.tp} needs {spec.size} devices, {devices} are available"
        )
    if config.num_heads % spec.tp != 0:
        raise MeshError(f"tp={spec.tp} does not divide the model's {config.num_heads} attention heads")
    if config.ffn_size % spec.tp != 0:
        raise MeshError(f"tp={spec.tp} does not divide the model's feed-forward size {config.ffn_size}")
    if config.hidden_size % spec.fsdp != 0:
        raise MeshError(f"fsdp={spec.fsdp} does not divide the model's hidden size {config.hidden_size}")


def make_mesh(spec: MeshSpec, devices: list | None = None) -> Mesh:
    devices = list(jax.devices()) if devices is None else devices
    if spec.size != len(devices):
        raise MeshError(
            f"mesh data={spec.data} fsdp={spec.fsdp} tp={spec.tp} needs {spec.size} devices, {len(devices)} are available"
        )
    return Mesh(np.array(devices).reshape(spec.data, spec.fsdp, spec.tp), MESH_AXES)


def param_shardings(mesh: Mesh, config: ModelConfig) -> dict:
    def walk(tree):
        return {k: walk(v) if isinstance(v, dict) else NamedSharding(mesh, logical_to_spec(v)) for k, v in tree.items()}

    return walk(param_axes(config))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """[batch, ...] inputs and pooled outputs: batch over data x fsdp, replicated over tp."""
    return NamedSharding(mesh, logical_to_spec(("act_batch", None)))


def activation_constraint(mesh: Mesh):
    """The `constrain` callable the model takes: pins an activation's sharding by its logical axes."""

    def constrain(x: jax.Array, axes: tuple[str | None, ...]) -> jax.Array:
        return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, logical_to_spec(axes)))

    return constrain
