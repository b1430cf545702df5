"""Owns pooling per-token hidden states into one fp32 vector per sequence, as `steps/embed/pooling.ts`
does: `mean` over real tokens (CLS in or out), `cls`, or `max`; optional L2 normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

POOLINGS = ("mean", "cls", "max")


@dataclass(frozen=True)
class PoolingRule:
    pooling: str = "mean"
    # Count the leading special tokens (CLS) in mean/max pooling.
    include_cls: bool = True
    # How many leading special tokens each row has.
    prefix: int = 1
    normalize: bool = False

    def __post_init__(self):
        if self.pooling not in POOLINGS:
            raise ValueError(f'pooling "{self.pooling}" is not one of {", ".join(POOLINGS)}')
        if self.pooling == "cls" and self.prefix < 1:
            raise ValueError("pooling cls needs a tokenizer that puts CLS first (prefix >= 1)")


def l2_normalize(v: jax.Array) -> jax.Array:
    norm = jnp.sqrt(jnp.sum(v * v, axis=-1, keepdims=True))
    return jnp.where(norm > 0, v / jnp.where(norm > 0, norm, 1.0), v)


def pool(hidden: jax.Array, attention_mask: jax.Array, rule: PoolingRule) -> jax.Array:
    """hidden [batch, length, dim] (any float dtype) -> [batch, dim] float32."""
    hidden = hidden.astype(jnp.float32)
    lengths = attention_mask.astype(jnp.int32).sum(-1)
    if rule.pooling == "cls":
        out = hidden[:, 0]
    else:
        # A row of only special tokens still gets a vector: fall back to including them.
        start = jnp.where(rule.include_cls | (lengths <= rule.prefix), 0, rule.prefix)
        t = jnp.arange(hidden.shape[1])[None, :]
        selected = (t >= start[:, None]) & (t < lengths[:, None])
        if rule.pooling == "max":
            out = jnp.max(jnp.where(selected[..., None], hidden, -jnp.inf), axis=1)
        else:
            count = jnp.maximum(selected.sum(-1), 1).astype(jnp.float32)
            out = jnp.sum(jnp.where(selected[..., None], hidden, 0.0), axis=1) / count[:, None]
    return l2_normalize(out) if rule.normalize else out
