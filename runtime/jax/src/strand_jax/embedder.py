"""Owns embedding on a device mesh: parameters placed by their logical shardings, one program compiled
ahead of time per length bucket (counted), batches of per-device-batch x data x fsdp rows sharded over
data x fsdp, pooled vectors gathered back to the host in row order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .config import ModelConfig
from .length_buckets import buckets_for, plan_batches
from .lora import LoraApply, LoraSettings
from .model import encode
from .pooling import PoolingRule, pool
from .sharding import MeshSpec, activation_constraint, batch_sharding, check_mesh_fits, make_mesh, param_shardings

PRECISIONS = {"fp32": jnp.float32, "bf16": jnp.bfloat16}


@dataclass
class CompileStats:
    programs: int = 0
    seconds: float = 0.0
    shapes: list[tuple[int, int]] = field(default_factory=list)
    # Seconds spent compiling each shape, in the order of `shapes`.
    times: list[float] = field(default_factory=list)


class Embedder:
    def __init__(
        self,
        config: ModelConfig,
        host_params: dict,
        mesh: MeshSpec,
        per_device_batch: int,
        precision: str = "fp32",
        rule: PoolingRule | None = None,
        max_length: int | None = None,
        devices: list | None = None,
        adapters: tuple[dict, LoraSettings] | None = None,
    ):
        if precision not in PRECISIONS:
            raise ValueError(f'precision "{precision}" is not one of {", ".join(PRECISIONS)}')
        if per_device_batch < 1:
            raise ValueError("per-device batch must be at least 1")
        devices = list(jax.devices()) if devices is None else devices
        check_mesh_fits(config, mesh, len(devices))
        self.config = config
        self.spec = mesh
        self.mesh = make_mesh(mesh, devices)
        self.precision = precision
        self.dtype = PRECISIONS[precision]
        self.rule = rule = rule or PoolingRule()
        self.batch_size = per_device_batch * mesh.data * mesh.fsdp
        limit = length_limit(config)
        self.max_length = min(max_length or limit, limit)
        self.buckets = buckets_for(self.max_length)
        self.param_shardings = param_shardings(self.mesh, config)
        self.params = jax.device_put(_cast(host_params, self.dtype), self.param_shardings)
        self.inputs = batch_sharding(self.mesh)
        self.compiled: dict[tuple[int, int], object] = {}
        self.stats = CompileStats()

        # LoRA adapters (fine-tuned embeddings): small, so replicated on every device, in the compute dtype.
        replicated = NamedSharding(self.mesh, PartitionSpec())
        self.adapters = {} if adapters is None else jax.device_put(_cast(adapters[0], self.dtype), replicated)
        lora = None if adapters is None else LoraApply(adapters[1].scale)
        self._jitted = embed_forward(config, self.mesh, self.dtype, rule, lora)

    def _program(self, width: int):
        key = (self.batch_size, width)
        if key not in self.compiled:
            started = time.perf_counter()
            shape = jax.ShapeDtypeStruct(key, jnp.int32)
            self.compiled[key] = self._jitted.lower(self.params, self.adapters, shape, shape).compile()
            elapsed = time.perf_counter() - started
            self.stats.programs += 1
            self.stats.seconds += elapsed
            self.stats.times.append(elapsed)
            self.stats.shapes.append(key)
        return self.compiled[key]

    def embed(self, rows: list[np.ndarray], on_batch: Callable[[int, int], None] | None = None) -> np.ndarray:
        """One pooled fp32 vector per row, in the order given; `on_batch(rows, tokens)` after each batch."""
        too_long = [i for i, r in enumerate(rows) if len(r) > self.max_length]
        if too_long:
            i = too_long[0]
            raise ValueError(f"row {i} has {len(rows[i])} tokens; this model takes at most {self.max_length}")
        out = np.zeros((len(rows), self.config.hidden_size), dtype=np.float32)
        for batch in plan_batches(rows, self.buckets, self.batch_size, self.config.pad_token_id):
            program = self._program(batch.input_ids.shape[1])
            ids = jax.device_put(batch.input_ids, self.inputs)
            mask = jax.device_put(batch.attention_mask, self.inputs)
            pooled = np.asarray(program(self.params, self.adapters, ids, mask))
            real = batch.rows >= 0
            out[batch.rows[real]] = pooled[real]
            if on_batch is not None:
                on_batch(int(real.sum()), int(sum(len(rows[r]) for r in batch.rows[real])))
        return out


def length_limit(config: ModelConfig) -> int:
    """The longest row the model takes: absolute positions stop at the table's end (ESM numbers real tokens
    from pad_id + 1)."""
    if config.position_embedding == "absolute":
        return config.max_positions - config.pad_token_id - 1
    return config.max_positions


def embed_forward(
    config: ModelConfig, mesh: Mesh, dtype, rule: PoolingRule, lora: LoraApply | None = None, *, unroll: int | bool = 1
):
    """The jitted forward of an embedding batch: (params, adapters, input_ids, attention_mask) -> pooled
    [batch, hidden], parameters sharded by their logical axes, LoRA adapters (`{}` for none) replicated, the
    batch over data x fsdp. What `Embedder` runs and what the pre-flight compiles for a TPU topology."""
    constrain = activation_constraint(mesh)
    inputs = batch_sharding(mesh)

    def forward(params, adapters, input_ids, attention_mask):
        hidden = encode(params, input_ids, attention_mask, config, dtype, constrain, adapters, lora, unroll=unroll)
        return pool(hidden, attention_mask, rule)

    replicated = NamedSharding(mesh, PartitionSpec())
    return jax.jit(
        forward, in_shardings=(param_shardings(mesh, config), replicated, inputs, inputs), out_shardings=inputs
    )


def _cast(tree: dict, dtype) -> dict:
    return {k: _cast(v, dtype) if isinstance(v, dict) else np.asarray(v).astype(dtype) for k, v in tree.items()}
