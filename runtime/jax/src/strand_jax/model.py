"""Owns the Nucleotide Transformer encoder as a pure function of parameters and token ids.

Both families share ESM's pre-LayerNorm skeleton; `ModelConfig` switches positions (learned table with
ESM position ids, or rotary) and the feed-forward (GELU with biases, or SwiGLU without). Semantics follow
transformers' EsmModel (v1) and InstaDeep's NT-v2 code: the query is scaled before the rotation, token
dropout rescales embeddings at inference, padded embeddings are zeroed, a final LayerNorm closes.

Parameters are a nested dict of arrays (layers stacked on a leading axis and run with `lax.scan`); their
layout and logical axes are declared in `params.py` and `sharding.py`, not here. `constrain` lets the
caller pin activation shardings by logical axis without the model knowing about meshes. LoRA adapters
(`lora.py`), when given, are added to the projections they target inside this same forward, and `remat`
wraps each layer in `jax.checkpoint` for training.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .config import ModelConfig
from .lora import LoraApply

Constrain = Callable[[jax.Array, tuple[str | None, ...]], jax.Array]

# Rematerialisation in training: "none" keeps every activation, "full" recomputes each layer in the
# backward pass, "dots" keeps only the matmul outputs without batch dimensions (jax's policy of that name).
REMAT_POLICIES = {
    "none": None,
    "full": jax.checkpoint_policies.nothing_saveable,
    "dots": jax.checkpoint_policies.dots_with_no_batch_dims_saveable,
}

# ESM's token dropout masks 15% of tokens and replaces 80% of those with <mask> during training.
MASK_RATIO_TRAIN = 0.15 * 0.8


def _no_constraint(x: jax.Array, _axes: tuple[str | None, ...]) -> jax.Array:
    return x


def layer_norm(x: jax.Array, scale: jax.Array, bias: jax.Array, eps: float) -> jax.Array:
    # Statistics in fp32 whatever the compute dtype (bf16 LayerNorm loses too much).
    x32 = x.astype(jnp.float32)
    mean = jnp.mean(x32, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x32 - mean), axis=-1, keepdims=True)
    y = (x32 - mean) * jax.lax.rsqrt(var + eps)
    return (y * scale.astype(jnp.float32) + bias.astype(jnp.float32)).astype(x.dtype)


def esm_position_ids(input_ids: jax.Array, pad_id: int) -> jax.Array:
    """ESM/fairseq positions: real tokens count from pad_id + 1, padding keeps pad_id."""
    real = (input_ids != pad_id).astype(jnp.int32)
    return jnp.cumsum(real, axis=1) * real + pad_id


def rotary_inverse_frequencies(head_dim: int) -> np.ndarray:
    # Computed in float64 then rounded once, so every implementation that does the same gets the same table.
    return (1.0 / (10000.0 ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))).astype(np.float32)


def rotary_tables(length: int, head_dim: int) -> tuple[jax.Array, jax.Array]:
    positions = jnp.arange(length, dtype=jnp.float32)
    freqs = positions[:, None] * jnp.asarray(rotary_inverse_frequencies(head_dim))[None, :]
    angles = jnp.concatenate([freqs, freqs], axis=-1)  # [length, head_dim]
    return jnp.cos(angles), jnp.sin(angles)


def apply_rotary(x: jax.Array, cos: jax.Array, sin: jax.Array) -> jax.Array:
    """x: [batch, length, heads, head_dim]; rotates the two halves of each head (RoFormer, non-interleaved)."""
    half = x.shape[-1] // 2
    rotated = jnp.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    cos = cos[None, :, None, :].astype(x.dtype)
    sin = sin[None, :, None, :].astype(x.dtype)
    return x * cos + rotated * sin


def embed_tokens(
    params: dict, input_ids: jax.Array, attention_mask: jax.Array, config: ModelConfig, dtype, constrain: Constrain
) -> jax.Array:
    # Tables are gathered whole before the lookup (as FSDP gathers any weight before use): a lookup into a
    # table sharded on its hidden axis would leave the result sharded the wrong way for the batch.
    def table(name: str) -> jax.Array:
        return constrain(params["embed"][name], (None, None))

    x = jnp.take(table("word"), input_ids, axis=0).astype(jnp.float32)
    if config.token_dropout:
        is_mask = input_ids == config.mask_token_id
        x = jnp.where(is_mask[..., None], 0.0, x)
        lengths = jnp.maximum(attention_mask.sum(-1), 1).astype(jnp.float32)
        observed = is_mask.sum(-1).astype(jnp.float32) / lengths
        x = x * (1.0 - MASK_RATIO_TRAIN) / (1.0 - observed)[:, None, None]
    if config.position_embedding == "absolute":
        positions = esm_position_ids(input_ids, config.pad_token_id)
        x = x + jnp.take(table("position"), positions, axis=0).astype(jnp.float32)
    if config.emb_layer_norm_before:
        norm = params["embed"]["norm"]
        x = layer_norm(x, norm["scale"], norm["bias"], config.layer_norm_eps)
    x = x * attention_mask[..., None].astype(jnp.float32)
    return x.astype(dtype)


def _dense(x: jax.Array, p: dict, spec: str) -> jax.Array:
    y = jnp.einsum(spec, x, p["kernel"].astype(x.dtype))
    return y + p["bias"].astype(x.dtype) if "bias" in p else y


def _layer(config: ModelConfig, constrain: Constrain, mask: jax.Array, rotary: tuple | None, lora: LoraApply | None):
    eps = config.layer_norm_eps

    def step(x: jax.Array, xs: tuple) -> tuple[jax.Array, None]:
        p, adapters, key = xs

        def adapted(target: str, y: jax.Array, inputs: jax.Array) -> jax.Array:
            if lora is None or target not in adapters:
                return y
            return y + lora.delta(target, inputs, adapters[target], key)

        h = layer_norm(x, p["attn_norm"]["scale"], p["attn_norm"]["bias"], eps)
        q = adapted("query", _dense(h, p["query"], "bld,dnh->blnh"), h) * (config.head_dim**-0.5)
        k = adapted("key", _dense(h, p["key"], "bld,dnh->blnh"), h)
        v = adapted("value", _dense(h, p["value"], "bld,dnh->blnh"), h)
        if rotary is not None:
            q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        q, k, v = (constrain(t, ("act_batch", "act_length", "act_heads", None)) for t in (q, k, v))
        scores = jnp.einsum("blnh,bmnh->bnlm", q, k, preferred_element_type=jnp.float32)
        scores = jnp.where(mask[:, None, None, :], scores, jnp.finfo(jnp.float32).min)
        probs = jax.nn.softmax(scores, axis=-1).astype(x.dtype)
        context = jnp.einsum("bnlm,bmnh->blnh", probs, v)
        x = x + adapted("attention_output", _dense(context, p["out"], "blnh,nhd->bld"), context)
        x = constrain(x, ("act_batch", "act_length", "act_embed"))

        h = layer_norm(x, p["ffn_norm"]["scale"], p["ffn_norm"]["bias"], eps)
        if config.glu:
            gate = _dense(h, p["wi_gate"], "bld,df->blf")
            up = _dense(h, p["wi_up"], "bld,df->blf")
            if lora is not None and "intermediate" in adapters:
                # One adapter over both halves, as peft adapts the single intermediate Linear.
                both = adapted("intermediate", jnp.concatenate([gate, up], axis=-1), h)
                gate, up = jnp.split(both, 2, axis=-1)
            u = jax.nn.silu(gate) * up
        else:
            # ESM's GELU is the exact (erf) one.
            u = jax.nn.gelu(adapted("intermediate", _dense(h, p["wi"], "bld,df->blf"), h), approximate=False)
        u = constrain(u, ("act_batch", "act_length", "act_ffn"))
        x = x + adapted("output", _dense(u, p["wo"], "blf,fd->bld"), u)
        return constrain(x, ("act_batch", "act_length", "act_embed")), None

    return step


def encode(
    params: dict,
    input_ids: jax.Array,
    attention_mask: jax.Array,
    config: ModelConfig,
    dtype=jnp.float32,
    constrain: Constrain = _no_constraint,
    adapters: dict | None = None,
    lora: LoraApply | None = None,
    dropout_key: jax.Array | None = None,
    remat: str = "none",
    unroll: int | bool = 1,
) -> jax.Array:
    """Last hidden state [batch, length, hidden] in `dtype` (after the final LayerNorm).

    `adapters` (stacked over layers, `lora.init_adapters`) with `lora` add LoRA to the projections they target;
    `dropout_key` switches LoRA dropout on (training); `remat` is one of REMAT_POLICIES. `unroll` is
    lax.scan's: the same numbers either way; the pre-flight unrolls to count FLOPs, since XLA's cost analysis
    counts a loop body once whatever its trip count."""
    mask = attention_mask.astype(bool)
    x = embed_tokens(params, input_ids, attention_mask, config, dtype, constrain)
    x = constrain(x, ("act_batch", "act_length", "act_embed"))
    rotary = rotary_tables(input_ids.shape[1], config.head_dim) if config.position_embedding == "rotary" else None
    step = _layer(config, constrain, mask, rotary, lora if adapters else None)
    if remat != "none":
        step = jax.checkpoint(step, policy=REMAT_POLICIES[remat])
    keys = None if dropout_key is None else jax.random.split(dropout_key, config.num_layers)
    x, _ = jax.lax.scan(step, x, (params["layers"], adapters or {}, keys), unroll=unroll)
    final = params["final_norm"]
    return layer_norm(x, final["scale"], final["bias"], config.layer_norm_eps)
