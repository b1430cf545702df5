"""Owns the hierarchical taxonomy head trained with LoRA: an optional shared ReLU layer over the mean-pooled
hidden state, then one linear classifier per level, and its loss: per example, the sum over levels of
weight x cross-entropy, levels whose label is -1 (missing or a masked placeholder) left out. The same head
and loss as `steps/finetune/head-model.ts` (whose ONNX export writes this head too), in JAX.

Parameters use torch's [out, in] layout (`hidden.weight`, `level_0.weight`, ...), as the export writes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp


@dataclass(frozen=True)
class HeadSpec:
    dim: int
    # Width of the shared hidden layer; 0 for linear classifiers on the pooled vector.
    hidden: int
    classes: tuple[int, ...]
    weights: tuple[float, ...]

    def __post_init__(self):
        if len(self.classes) != len(self.weights):
            raise ValueError(f"{len(self.classes)} levels but {len(self.weights)} loss weights")


def _blocks(spec: HeadSpec) -> list[tuple[str, int, int]]:
    width = spec.hidden or spec.dim
    blocks = [("hidden", spec.hidden, spec.dim)] if spec.hidden else []
    return blocks + [(f"level_{i}", max(1, c), width) for i, c in enumerate(spec.classes)]


def init_head(spec: HeadSpec, key: jax.Array) -> dict:
    """Seeded Glorot-uniform weights (as head-model.ts), zero biases."""
    head = {}
    for i, (name, rows, cols) in enumerate(_blocks(spec)):
        bound = math.sqrt(6 / (rows + cols))
        head[name] = {
            "weight": jax.random.uniform(jax.random.fold_in(key, i), (rows, cols), jnp.float32, -bound, bound),
            "bias": jnp.zeros((rows,), jnp.float32),
        }
    return head


def head_logits(head: dict, pooled: jax.Array, levels: int) -> list[jax.Array]:
    x = pooled.astype(jnp.float32)
    if "hidden" in head:
        x = jax.nn.relu(x @ head["hidden"]["weight"].T + head["hidden"]["bias"])
    return [x @ head[f"level_{i}"]["weight"].T + head[f"level_{i}"]["bias"] for i in range(levels)]


def head_loss(
    head: dict, pooled: jax.Array, labels: jax.Array, spec: HeadSpec
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """labels [batch, levels] (-1 masked). Returns (sum over the batch of the weighted loss, per-level sums of
    the unweighted cross-entropy, per-level label counts)."""
    sums, counts = [], []
    for level, logits in enumerate(head_logits(head, pooled, len(spec.classes))):
        y = labels[:, level]
        known = y >= 0
        logp = jax.nn.log_softmax(logits, axis=-1)
        ce = -jnp.take_along_axis(logp, jnp.maximum(y, 0)[:, None], axis=-1)[:, 0]
        sums.append(jnp.sum(jnp.where(known, ce, 0.0)))
        counts.append(jnp.sum(known.astype(jnp.float32)))
    level_sums = jnp.stack(sums)
    weighted = jnp.sum(jnp.asarray(spec.weights, jnp.float32) * level_sums)
    return weighted, level_sums, jnp.stack(counts)


def head_predictions(head: dict, pooled: jax.Array, levels: int) -> jax.Array:
    """[batch, levels] argmax class per level."""
    return jnp.stack([jnp.argmax(z, axis=-1) for z in head_logits(head, pooled, levels)], axis=-1).astype(jnp.int32)
