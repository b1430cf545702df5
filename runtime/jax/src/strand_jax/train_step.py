"""Owns the LoRA training step as one compiled program, buildable from shapes alone (for a compile
pre-flight with `jax.ShapeDtypeStruct`s on a deviceless topology, as for the real run):

  build_train_program(config, lora, train, head, mesh, per_device_batch, length) -> TrainProgram
  program.step(base, state, batch) -> (state, metrics)     program.abstract_args() -> the same, as shapes

Placement: the frozen base is sharded over the mesh exactly as `embed` shards it (`sharding.param_shardings`,
by logical axis). Adapters, head and AdamW moments are replicated on every device: they are ~0.4% of NT-2.5B
at r=16 on query/value (21 MB fp32 with both moments), so sharding them would save little and cost a gather per
layer; their gradients are all-reduced over data x fsdp by XLA. Batches are [grad_accum, micro, length] with the
micro-batch (per-device batch x data x fsdp) sharded over data x fsdp like `embed`'s batches; gradient
accumulation is a `lax.scan` over the first axis inside the step, so one step is one optimizer update. bf16
keeps the base in bfloat16 and the trainable parameters, the head, pooling and the loss in fp32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .config import ModelConfig
from .lora import LoraApply, LoraSettings, adapter_shapes, init_adapters
from .model import REMAT_POLICIES, encode
from .params import param_axes
from .pooling import PoolingRule, pool
from .sharding import activation_constraint, param_shardings
from .taxonomy_head import HeadSpec, head_loss, head_predictions, init_head

PRECISIONS = {"fp32": jnp.float32, "bf16": jnp.bfloat16}
SCHEDULES = ("cosine", "linear", "constant")


@dataclass(frozen=True)
class TrainSettings:
    total_steps: int
    learning_rate: float = 2e-4
    warmup_steps: int = 500
    schedule: str = "cosine"
    weight_decay: float = 0.01
    grad_accum: int = 1
    remat: str = "full"
    precision: str = "fp32"
    seed: int = 1

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f'schedule "{self.schedule}" is not one of {", ".join(SCHEDULES)}')
        if self.remat not in REMAT_POLICIES:
            raise ValueError(f'remat "{self.remat}" is not one of {", ".join(REMAT_POLICIES)}')
        if self.precision not in PRECISIONS:
            raise ValueError(f'precision "{self.precision}" is not one of {", ".join(PRECISIONS)}')
        if self.grad_accum < 1 or self.total_steps < 1:
            raise ValueError("grad_accum and the number of steps must be at least 1")


def learning_rate_schedule(train: TrainSettings) -> optax.Schedule:
    """Linear warmup from 0 to the peak, then cosine or linear decay to 0 at the last step, or constant."""
    warmup = min(train.warmup_steps, train.total_steps)
    rest = max(1, train.total_steps - warmup)
    after = {
        "cosine": optax.cosine_decay_schedule(train.learning_rate, rest),
        "linear": optax.linear_schedule(train.learning_rate, 0.0, rest),
        "constant": optax.constant_schedule(train.learning_rate),
    }[train.schedule]
    return optax.join_schedules([optax.linear_schedule(0.0, train.learning_rate, max(1, warmup)), after], [warmup])


def optimizer(train: TrainSettings) -> optax.GradientTransformation:
    # Weight decay on matrices only (LoRA a/b and head weights), not on biases, as taxonomy-head does.
    def decayed(tree):
        return jax.tree_util.tree_map(lambda x: x.ndim > 1, tree)

    return optax.adamw(
        learning_rate_schedule(train), b1=0.9, b2=0.999, eps=1e-8, weight_decay=train.weight_decay, mask=decayed
    )


@dataclass
class TrainProgram:
    config: ModelConfig
    lora: LoraSettings
    train: TrainSettings
    head: HeadSpec
    mesh: Mesh
    per_device_batch: int
    length: int
    # jax.jit-wrapped functions: step(base, state, batch) -> (state, metrics), and evaluate.
    step: Any
    evaluate: Any
    base_shardings: dict
    replicated: NamedSharding
    batch_sharding: NamedSharding
    eval_sharding: NamedSharding

    @property
    def micro_batch(self) -> int:
        return self.per_device_batch * self.mesh.shape["data"] * self.mesh.shape["fsdp"]

    @property
    def global_batch(self) -> int:
        return self.micro_batch * self.train.grad_accum

    def _initial_state(self) -> dict:
        key = jax.random.PRNGKey(self.train.seed)
        trainable = {
            "adapters": init_adapters(self.config, self.lora, jax.random.fold_in(key, 1)),
            "head": init_head(self.head, jax.random.fold_in(key, 2)),
        }
        return {"step": jnp.zeros((), jnp.int32), "trainable": trainable, "opt": optimizer(self.train).init(trainable)}

    def init_state(self) -> dict:
        """Step 0: seeded adapters (b = 0) and head, fresh AdamW moments, replicated on the mesh. One compiled
        program, so a cold start compiles once rather than once per random draw and zero fill."""
        return jax.jit(self._initial_state, out_shardings=self.replicated)()

    def abstract_state(self) -> dict:
        return jax.eval_shape(self._initial_state)

    def abstract_args(self) -> tuple:
        """(base, state, batch) as ShapeDtypeStructs with their shardings: `program.step.lower(*...)` compiles."""
        dtype = PRECISIONS[self.train.precision]

        def base_leaf(axes, sharding):
            return jax.ShapeDtypeStruct(_param_shape(self.config, axes), dtype, sharding=sharding)

        base = jax.tree_util.tree_map(
            base_leaf, param_axes(self.config), self.base_shardings, is_leaf=lambda x: isinstance(x, tuple)
        )
        state = jax.tree_util.tree_map(
            lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=self.replicated), self.abstract_state()
        )
        return base, state, self.abstract_batch()

    def abstract_batch(self) -> dict:
        a, b, n = self.train.grad_accum, self.micro_batch, len(self.head.classes)
        s = self.batch_sharding

        def shape(*dims, dtype=jnp.int32):
            return jax.ShapeDtypeStruct(dims, dtype, sharding=s)

        return {
            "input_ids": shape(a, b, self.length),
            "attention_mask": shape(a, b, self.length),
            "labels": shape(a, b, n),
        }


def _param_shape(config: ModelConfig, axes: tuple) -> tuple[int, ...]:
    # A base leaf's shape is the sizes of the logical axes `params.param_axes` gives it.
    sizes = {
        "layers": config.num_layers,
        "embed": config.hidden_size,
        "heads": config.num_heads,
        "head_dim": config.head_dim,
        "ffn": config.ffn_size,
        "vocab": config.vocab_size,
        "positions": config.max_positions,
    }
    return tuple(sizes[a] for a in axes)


def build_train_program(
    config: ModelConfig,
    lora: LoraSettings,
    train: TrainSettings,
    head: HeadSpec,
    mesh: Mesh,
    per_device_batch: int,
    length: int,
    rule: PoolingRule | None = None,
    unroll: int | bool = 1,
) -> TrainProgram:
    """The jitted train and eval steps for these shapes (nothing is placed or compiled here). `unroll` is the
    layer scan's (model.encode): the pre-flight unrolls it to count FLOPs."""
    rule = rule or PoolingRule()
    dtype = PRECISIONS[train.precision]
    constrain = activation_constraint(mesh)
    apply = LoraApply(lora.scale, lora.dropout)
    opt = optimizer(train)
    levels = len(head.classes)
    replicated = NamedSharding(mesh, PartitionSpec())
    batch_sharding = NamedSharding(mesh, PartitionSpec(None, ("data", "fsdp"), None))
    eval_sharding = NamedSharding(mesh, PartitionSpec(("data", "fsdp"), None))
    base_shardings = param_shardings(mesh, config)
    assert set(adapter_shapes(config, lora)) == set(lora.targets)

    def pooled(base, trainable, ids, mask, key):
        hidden = encode(
            base, ids, mask, config, dtype, constrain, trainable["adapters"], apply, key, train.remat, unroll
        )
        return pool(hidden, mask, rule)

    def micro_loss(trainable, base, ids, mask, labels, key):
        weighted, level_sums, counts = head_loss(
            trainable["head"], pooled(base, trainable, ids, mask, key), labels, head
        )
        return weighted, (level_sums, counts)

    grad_fn = jax.value_and_grad(micro_loss, has_aux=True)

    def step(base, state, batch):
        key = jax.random.fold_in(jax.random.PRNGKey(train.seed), state["step"])
        trainable = state["trainable"]
        zeros = jax.tree_util.tree_map(jnp.zeros_like, trainable)

        def accumulate(carry, micro):
            grads, loss, sums, counts = carry
            index, ids, mask, labels = micro
            (part, (s, c)), g = grad_fn(trainable, base, ids, mask, labels, jax.random.fold_in(key, index))
            return (jax.tree_util.tree_map(jnp.add, grads, g), loss + part, sums + s, counts + c), None

        init = (zeros, jnp.zeros(()), jnp.zeros((levels,)), jnp.zeros((levels,)))
        micro = (jnp.arange(train.grad_accum), batch["input_ids"], batch["attention_mask"], batch["labels"])
        (grads, loss, sums, counts), _ = jax.lax.scan(accumulate, init, micro)
        # The mean over the real examples of the whole accumulated batch (padding rows have every label -1).
        examples = jnp.maximum(jnp.sum(jnp.any(batch["labels"] >= 0, axis=-1)), 1).astype(jnp.float32)
        grads = jax.tree_util.tree_map(lambda g: g / examples, grads)
        updates, opt_state = opt.update(grads, state["opt"], trainable)
        new = {"step": state["step"] + 1, "trainable": optax.apply_updates(trainable, updates), "opt": opt_state}
        metrics = {
            "loss": loss / examples,
            "level_loss": sums / jnp.maximum(counts, 1.0),
            "grad_norm": optax.tree.norm(grads),
            "lr": learning_rate_schedule(train)(state["step"]),
        }
        return new, metrics

    def evaluate(base, trainable, ids, mask, labels):
        p = pooled(base, trainable, ids, mask, None)
        _, sums, counts = head_loss(trainable["head"], p, labels, head)
        return head_predictions(trainable["head"], p, levels), sums, counts

    jitted_step = jax.jit(
        step,
        in_shardings=(base_shardings, replicated, batch_sharding),
        out_shardings=(replicated, replicated),
        donate_argnums=(1,),
    )
    jitted_eval = jax.jit(
        evaluate,
        in_shardings=(base_shardings, replicated, eval_sharding, eval_sharding, eval_sharding),
        out_shardings=(eval_sharding, replicated, replicated),
    )
    return TrainProgram(
        config,
        lora,
        train,
        head,
        mesh,
        per_device_batch,
        length,
        jitted_step,
        jitted_eval,
        base_shardings,
        replicated,
        batch_sharding,
        eval_sharding,
    )
