"""Owns the registry of programs the pre-flight can compile from shapes alone, by name.

A program builder takes the request, the model config (the pre-flight changes its layer count to count
FLOPs), a mesh over the target's devices, the per-device batch, the length bucket and lax.scan's unroll,
and returns the jitted function with ShapeDtypeStructs (each carrying its NamedSharding) to lower it with.

  embed-forward   the embedding forward `embed/nt` runs (embedder.embed_forward, the same shardings)
  train-step      one optimizer step of `finetune/nt-lora` (train_step.build_train_program, the same
                  shardings, donation and remat), its settings from `request.options` (the TrainJob's
                  TrainSettings, jax_job.schema.json) and the request's precision, read by the trainer's own
                  `job_settings`. The per-device batch is the micro-batch's; the gradient-accumulation
                  scan's body is counted once by XLA, so its FLOPs are multiplied by grad_accum (`repeats`).
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
from .lora_trainer import job_settings, train_pooling
from .params import param_shapes
from .pooling import PoolingRule
from .sharding import batch_sharding, param_shardings
from .train_step import build_train_program


@dataclass(frozen=True)
class ProgramShapes:
    jitted: Any
    args: tuple
    # Sequences one call processes (the global batch): FLOPs per sequence = FLOPs per call / this.
    sequences: int
    # Trips of an outer loop around the layer scan that XLA's cost analysis counts once (gradient accumulation).
    repeats: int = 1


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


# The head's classes per level are known only once the lineage is read (at run time): the plan assumes this
# many. The head is hidden x classes per level, a few MB beside the base at this count.
PLANNED_CLASSES_PER_LEVEL = 1024


def train_step_program(
    request: ProgramRequest, config: ModelConfig, mesh: Mesh, per_device_batch: int, length: int, unroll: int | bool
) -> ProgramShapes:
    options = request.options
    classes = [PLANNED_CLASSES_PER_LEVEL] * len(options["weights"])
    # The schedule's length does not change the program: one step stands for any.
    lora, train, head = job_settings(options, request.precision, config, 1, classes)
    rule = train_pooling(request.rule.include_cls, request.rule.prefix)
    program = build_train_program(config, lora, train, head, mesh, per_device_batch, length, rule, unroll)
    return ProgramShapes(program.step, program.abstract_args(), program.global_batch, train.grad_accum)


register("train-step", train_step_program)
