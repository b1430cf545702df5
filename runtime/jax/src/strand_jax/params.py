"""Owns the parameter layout: how a Hugging Face ESM/NT state dict (key names, torch [out, in] layout)
becomes the encoder's parameter tree, and the logical axes of every leaf (what `sharding.py` maps to the mesh).

Accepted names are those of InstaDeep's checkpoints (`esm.` prefix, EsmForMaskedLM) and of a bare
EsmModel (no prefix). LayerNorms may be named weight/bias or gamma/beta. Heads (`lm_head.*`,
`contact_head.*`, `pooler.*`) and rotary `inv_freq` buffers are
not part of the encoder and are ignored; any other unknown or missing key is an error.
"""

from __future__ import annotations

import re

import numpy as np

from .config import ModelConfig


class CheckpointError(ValueError):
    """The weights do not match config.json or are not an ESM/NT encoder."""


IGNORED = re.compile(
    r"^(lm_head\.|contact_head\.|pooler\.|embeddings\.position_ids$|(encoder\.layer\.\d+\.attention\.self\.)?rotary_embeddings\.inv_freq$)"
)


def _strip(key: str) -> str:
    return key[len("esm.") :] if key.startswith("esm.") else key


def encoder_state(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The encoder's tensors under bare EsmModel names."""
    return {_strip(k): v for k, v in state.items() if not IGNORED.match(_strip(k))}


def params_from_state(state: dict[str, np.ndarray], config: ModelConfig, dtype=np.float32) -> dict:
    """Builds the parameter tree; shapes are checked against config.json with the offending key named."""
    s = encoder_state(state)
    used: set[str] = set()
    h, n, d, f, layers = config.hidden_size, config.num_heads, config.head_dim, config.ffn_size, config.num_layers

    def take(key: str, shape: tuple[int, ...]) -> np.ndarray:
        if key not in s:
            raise CheckpointError(f"weights have no {key} (expected by config.json: {config.family}, {layers} layers)")
        value = np.asarray(s[key])
        if value.shape != shape:
            raise CheckpointError(f"{key} has shape {list(value.shape)}, config.json implies {list(shape)}")
        used.add(key)
        return value.astype(np.float32)

    def norm(prefix: str) -> dict:
        # Older BERT-lineage checkpoints (and transformers 5's save_pretrained) name LayerNorm gamma/beta.
        legacy = f"{prefix}.gamma" in s and f"{prefix}.weight" not in s
        scale, bias = (f"{prefix}.gamma", f"{prefix}.beta") if legacy else (f"{prefix}.weight", f"{prefix}.bias")
        return {"scale": take(scale, (h,)), "bias": take(bias, (h,))}

    def stacked(build) -> dict:
        per_layer = [build(f"encoder.layer.{i}") for i in range(layers)]
        return _stack(per_layer)

    def attention_in(prefix: str) -> dict:
        return {
            "kernel": take(f"{prefix}.weight", (h, h)).T.reshape(h, n, d),
            "bias": take(f"{prefix}.bias", (h,)).reshape(n, d),
        }

    def layer(p: str) -> dict:
        out = {
            "attn_norm": norm(f"{p}.attention.LayerNorm"),
            "query": attention_in(f"{p}.attention.self.query"),
            "key": attention_in(f"{p}.attention.self.key"),
            "value": attention_in(f"{p}.attention.self.value"),
            "out": {
                "kernel": take(f"{p}.attention.output.dense.weight", (h, h)).T.reshape(n, d, h),
                "bias": take(f"{p}.attention.output.dense.bias", (h,)),
            },
            "ffn_norm": norm(f"{p}.LayerNorm"),
        }
        if config.glu:
            wi = take(f"{p}.intermediate.dense.weight", (2 * f, h))
            # NT v2 splits the projection in two halves: SiLU gates the first, the second is linear.
            out["wi_gate"] = {"kernel": wi[:f].T}
            out["wi_up"] = {"kernel": wi[f:].T}
        else:
            out["wi"] = {"kernel": take(f"{p}.intermediate.dense.weight", (f, h)).T}
        out["wo"] = {"kernel": take(f"{p}.output.dense.weight", (h, f)).T}
        if config.ffn_bias:
            out["wi"]["bias"] = take(f"{p}.intermediate.dense.bias", (f,))
            out["wo"]["bias"] = take(f"{p}.output.dense.bias", (h,))
        return out

    embed: dict[str, np.ndarray | dict] = {"word": take("embeddings.word_embeddings.weight", (config.vocab_size, h))}
    if config.position_embedding == "absolute":
        embed["position"] = take("embeddings.position_embeddings.weight", (config.max_positions, h))
    elif "embeddings.position_embeddings.weight" in s:
        used.add("embeddings.position_embeddings.weight")  # NT v2 keeps an unused table
    if config.emb_layer_norm_before:
        embed["norm"] = norm("embeddings.layer_norm")
    params = {"embed": embed, "layers": stacked(layer), "final_norm": norm("encoder.emb_layer_norm_after")}
    unknown = sorted(set(s) - used)
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise CheckpointError(
            f"weights have keys this {config.family} encoder does not use: {', '.join(unknown[:3])}{more}"
        )
    return _cast(params, dtype)


def _stack(trees: list[dict]) -> dict:
    first = trees[0]
    return {
        k: _stack([t[k] for t in trees]) if isinstance(first[k], dict) else np.stack([t[k] for t in trees])
        for k in first
    }


def _cast(tree: dict, dtype) -> dict:
    return {
        k: _cast(v, dtype) if isinstance(v, dict) else np.ascontiguousarray(v, dtype=dtype) for k, v in tree.items()
    }


def param_axes(config: ModelConfig) -> dict:
    """Logical axes of each parameter, in the same tree shape as `params_from_state` builds."""
    norm = {"scale": ("layers", "embed"), "bias": ("layers", "embed")}
    attention_in = {"kernel": ("layers", "embed", "heads", "head_dim"), "bias": ("layers", "heads", "head_dim")}
    layer: dict = {
        "attn_norm": norm,
        "query": attention_in,
        "key": attention_in,
        "value": attention_in,
        "out": {"kernel": ("layers", "heads", "head_dim", "embed"), "bias": ("layers", "embed")},
        "ffn_norm": norm,
    }
    if config.glu:
        layer["wi_gate"] = {"kernel": ("layers", "embed", "ffn")}
        layer["wi_up"] = {"kernel": ("layers", "embed", "ffn")}
        layer["wo"] = {"kernel": ("layers", "ffn", "embed")}
    else:
        layer["wi"] = {"kernel": ("layers", "embed", "ffn"), "bias": ("layers", "ffn")}
        layer["wo"] = {"kernel": ("layers", "ffn", "embed"), "bias": ("layers", "embed")}
    embed: dict = {"word": ("vocab", "embed")}
    if config.position_embedding == "absolute":
        embed["position"] = ("positions", "embed")
    if config.emb_layer_norm_before:
        embed["norm"] = {"scale": ("embed",), "bias": ("embed",)}
    return {"embed": embed, "layers": layer, "final_norm": {"scale": ("embed",), "bias": ("embed",)}}


def param_shapes(config: ModelConfig) -> dict:
    """Shape of each parameter, in the tree `params_from_state` builds (the pre-flight compiles from these)."""
    h, n, d, f, layers = config.hidden_size, config.num_heads, config.head_dim, config.ffn_size, config.num_layers
    size = {"layers": layers, "embed": h, "heads": n, "head_dim": d, "ffn": f, "vocab": config.vocab_size}
    size["positions"] = config.max_positions

    def walk(tree):
        return {k: walk(v) if isinstance(v, dict) else tuple(size[a] for a in v) for k, v in tree.items()}

    return walk(param_axes(config))
