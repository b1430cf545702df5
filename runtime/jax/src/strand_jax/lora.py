"""Owns LoRA adapters on the encoder: which projections can carry one, their shapes and names, how an
adapter changes a projection's output (y + scale * dropout(x) A B, as peft's `lora.Linear` computes it), and
their seeded initialisation. The encoder applies them inside its own forward (`model.encode(adapters=...)`).

Adapters are stacked over layers like the base parameters (leading axis `layers`), one `{"a", "b"}` pair per
target. `a` maps the projection's input to the rank, `b` the rank to the projection's output, in the
kernel's own layout (heads split out for the attention projections), so `export_peft.py` only reshapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from .config import ModelConfig

# target -> the module it adapts inside an ESM layer (peft's module path, below `encoder.layer.N.`).
TARGET_MODULES = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attention_output": "attention.output.dense",
    "intermediate": "intermediate.dense",
    "output": "output.dense",
}
DEFAULT_TARGETS = ("query", "value")


class LoraError(ValueError):
    """The LoRA settings do not fit the model."""


@dataclass(frozen=True)
class LoraSettings:
    rank: int = 16
    alpha: float = 32.0
    dropout: float = 0.1
    targets: tuple[str, ...] = DEFAULT_TARGETS

    def __post_init__(self):
        unknown = [t for t in self.targets if t not in TARGET_MODULES]
        if unknown:
            raise LoraError(f'LoRA target "{unknown[0]}" is not one of {", ".join(TARGET_MODULES)}')
        if not self.targets:
            raise LoraError("LoRA needs at least one target module")
        if self.rank < 1:
            raise LoraError("LoRA rank must be at least 1")
        if not 0 <= self.dropout < 1:
            raise LoraError("LoRA dropout must be in [0, 1)")

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    @property
    def ordered_targets(self) -> tuple[str, ...]:
        """Targets in the layer's order (the order of TARGET_MODULES), whatever order they were given in."""
        return tuple(t for t in TARGET_MODULES if t in self.targets)


def adapter_shapes(config: ModelConfig, settings: LoraSettings) -> dict[str, dict[str, tuple[int, ...]]]:
    """Per target, the shapes of `a` and `b` (with the leading layers axis)."""
    L, d, n, h, f, r = (
        config.num_layers,
        config.hidden_size,
        config.num_heads,
        config.head_dim,
        config.ffn_size,
        settings.rank,
    )
    # NT v2's intermediate projection has 2 x ffn outputs (gate, then up); one adapter covers both halves.
    intermediate_out = 2 * f if config.glu else f
    shapes: dict[str, dict[str, tuple[int, ...]]] = {
        "query": {"a": (L, d, r), "b": (L, r, n, h)},
        "key": {"a": (L, d, r), "b": (L, r, n, h)},
        "value": {"a": (L, d, r), "b": (L, r, n, h)},
        "attention_output": {"a": (L, n, h, r), "b": (L, r, d)},
        "intermediate": {"a": (L, d, r), "b": (L, r, intermediate_out)},
        "output": {"a": (L, f, r), "b": (L, r, d)},
    }
    return {t: shapes[t] for t in settings.ordered_targets}


def adapter_parameter_count(config: ModelConfig, settings: LoraSettings) -> int:
    return sum(math.prod(s) for pair in adapter_shapes(config, settings).values() for s in pair.values())


def init_adapters(config: ModelConfig, settings: LoraSettings, key: jax.Array, b_scale: float = 0.0) -> dict:
    """peft's default: `a` Kaiming-uniform (a=sqrt(5), i.e. bound 1/sqrt(fan_in)), `b` zeros, so training starts
    from the base model. `b_scale` > 0 draws `b` too (tests: nonzero adapters)."""
    out = {}
    for i, (target, shapes) in enumerate(adapter_shapes(config, settings).items()):
        ka, kb = jax.random.split(jax.random.fold_in(key, i))
        a_shape, b_shape = shapes["a"], shapes["b"]
        fan_in = math.prod(a_shape[1:-1])
        bound = 1.0 / math.sqrt(fan_in)
        a = jax.random.uniform(ka, a_shape, jnp.float32, -bound, bound)
        b = b_scale * jax.random.normal(kb, b_shape, jnp.float32) if b_scale else jnp.zeros(b_shape, jnp.float32)
        out[target] = {"a": a, "b": b}
    return out


# How each target's input contracts with `a` and the rank with `b` (input, then output, einsum specs).
_SPECS = {
    "query": ("bld,dr->blr", "blr,rnh->blnh"),
    "key": ("bld,dr->blr", "blr,rnh->blnh"),
    "value": ("bld,dr->blr", "blr,rnh->blnh"),
    "attention_output": ("blnh,nhr->blr", "blr,rd->bld"),
    "intermediate": ("bld,dr->blr", "blr,rf->blf"),
    "output": ("blf,fr->blr", "blr,rd->bld"),
}


@dataclass(frozen=True)
class LoraApply:
    """What one forward needs besides the adapters: the scale, and dropout (rate and a key per layer) in training."""

    scale: float
    dropout: float = 0.0

    def delta(self, target: str, x: jax.Array, adapter: dict, key: jax.Array | None) -> jax.Array:
        """scale * dropout(x) @ a @ b, in x's dtype; `key` None means no dropout (inference)."""
        if key is not None and self.dropout > 0:
            index = list(TARGET_MODULES).index(target)
            keep = jax.random.bernoulli(jax.random.fold_in(key, index), 1.0 - self.dropout, x.shape)
            x = jnp.where(keep, x / (1.0 - self.dropout), 0.0).astype(x.dtype)
        into, out = _SPECS[target]
        low = jnp.einsum(into, x, adapter["a"].astype(x.dtype))
        return (self.scale * jnp.einsum(out, low, adapter["b"].astype(x.dtype))).astype(x.dtype)
