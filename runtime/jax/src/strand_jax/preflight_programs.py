"""Owns the registry of programs the pre-flight can compile from shapes alone, by name.

A program builder takes the request, the model config (the pre-flight changes its layer count to count
FLOPs), a mesh over the target's devices, the per-device batch, the length bucket and lax.scan's unroll,
and returns the jitted function with ShapeDtypeStructs (each carrying its NamedSharding) to lower it with.

  embed-forward   the embedding forward `embed/nt` runs (embedder.embed_forward, the same shardings)
  train-step      slot for fine-tuning (finetune/nt-lora): its runtime registers a builder here with
                  `register("train-step", build)`, taking its options from `request.options`
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from .config import ModelConfig
from .embedder import PRECISIONS, embed_forward
from .params import param_shapes
from .pooling import PoolingRule
from .sharding import batch_sharding, param_shardings


@dataclass(frozen=True)
class ProgramShapes:
    jitted: Any
    args: tuple
    # Sequences one call processes (the global batch): FLOPs per sequence = FLOPs per call / this.
    sequences: int


@dataclass(frozen=True)
class ProgramRequest:
    precision: str
    rule: PoolingRule
    # Program-specific settings (e.g. a train step's adapter rank), passed through unread by the pre-flight.
    options: dict


ProgramBuilder = Callable[[ProgramRequest, ModelConfig, Mesh, int, int, int | bool], ProgramShapes]

PROGRAMS: dict[str, ProgramBuilder] = {}


def register(name: str, build: ProgramBuilder) -> None:
    PROGRAMS[name] = build


def parameter_structs(config: ModelConfig, mesh: Mesh, dtype) -> dict:
    """The parameter tree as ShapeDtypeStructs with their shardings: no weights are read or placed."""
    shardings = param_shardings(mesh, config)

    def walk(shapes: dict, specs: dict) -> dict:
        return {
            k: walk(v, specs[k]) if isinstance(v, dict) else jax.ShapeDtypeStruct(v, dtype, sharding=specs[k])
            for k, v in shapes.items()
        }

    return walk(param_shapes(config), shardings)


def embed_forward_program(
    request: ProgramRequest, config: ModelConfig, mesh: Mesh, per_device_batch: int, length: int, unroll: int | bool
) -> ProgramShapes:
    dtype = PRECISIONS[request.precision]
    replicas = mesh.shape["data"] * mesh.shape["fsdp"]
    batch = per_device_batch * replicas
    tokens = jax.ShapeDtypeStruct((batch, length), jnp.int32, sharding=batch_sharding(mesh))
    jitted = embed_forward(config, mesh, dtype, request.rule, unroll=unroll)
    return ProgramShapes(jitted, (parameter_structs(config, mesh, dtype), {}, tokens, tokens), batch)


register("embed-forward", embed_forward_program)
