"""Owns the model facts of a Hugging Face Nucleotide Transformer folder, read from its config.json alone.

One record (`ModelConfig`) describes both families: v1 (NT 500M/2.5B, the stock transformers ESM:
learned positions, GELU feed-forward with biases) and v2 (50M-500M: rotary positions, SwiGLU
feed-forward without biases, `add_bias_fnn: false`). `model_facts` is what a planner needs for placement.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


class ModelConfigError(ValueError):
    """config.json is missing, unreadable or describes a model this runtime does not run."""


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    ffn_size: int
    max_positions: int
    pad_token_id: int
    mask_token_id: int
    layer_norm_eps: float
    # "absolute" (v1: learned table indexed by ESM position ids) or "rotary" (v2).
    position_embedding: str
    # v2: SwiGLU (the intermediate projection has 2 * ffn_size outputs, no biases); v1: GELU with biases.
    glu: bool
    ffn_bias: bool
    token_dropout: bool
    emb_layer_norm_before: bool

    @property
    def family(self) -> str:
        return "v2" if self.glu else "v1"

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def parameter_count(self) -> int:
        h, f, n = self.hidden_size, self.ffn_size, self.num_layers
        attention = 4 * h * h + 4 * h
        ffn = (3 * h * f) if self.glu else (2 * h * f + f + h)
        norms = 4 * h
        positions = self.max_positions * h if self.position_embedding == "absolute" else 0
        return self.vocab_size * h + positions + n * (attention + ffn + norms) + 2 * h


def parse_model_config(raw: dict) -> ModelConfig:
    """Builds a ModelConfig from the parsed JSON of a config.json."""

    def need(key: str) -> int:
        """A positive integer the model cannot do without."""
        if key not in raw:
            raise ModelConfigError(f'config.json has no "{key}"')
        value = raw[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ModelConfigError(f'config.json "{key}" must be a positive integer, got {value!r}')
        return value

    hidden = need("hidden_size")
    heads = need("num_attention_heads")
    if hidden % heads != 0:
        raise ModelConfigError(f"config.json hidden_size {hidden} is not a multiple of num_attention_heads {heads}")
    position = raw.get("position_embedding_type", "absolute")
    if position not in ("absolute", "rotary"):
        raise ModelConfigError(f'position_embedding_type "{position}" is not supported (absolute or rotary)')
    if position == "rotary" and (hidden // heads) % 2 != 0:
        raise ModelConfigError(f"rotary positions need an even head size, got {hidden // heads}")
    add_bias_fnn = raw.get("add_bias_fnn", True)
    return ModelConfig(
        vocab_size=need("vocab_size"),
        hidden_size=hidden,
        num_layers=need("num_hidden_layers"),
        num_heads=heads,
        ffn_size=need("intermediate_size"),
        max_positions=int(raw.get("max_position_embeddings", 1026)),
        pad_token_id=int(raw.get("pad_token_id", 1)),
        mask_token_id=int(raw.get("mask_token_id", 2)),
        layer_norm_eps=float(raw.get("layer_norm_eps", 1e-12)),
        position_embedding=position,
        # NT v2's remote code gates its feed-forward whenever it drops the biases (add_bias_fnn: false).
        glu=add_bias_fnn is False,
        ffn_bias=add_bias_fnn is not False,
        token_dropout=bool(raw.get("token_dropout", False)),
        emb_layer_norm_before=bool(raw.get("emb_layer_norm_before", False)),
    )


def read_model_config(folder: str | Path) -> ModelConfig:
    path = Path(folder) / "config.json"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelConfigError(
            f"{path} not found: a Hugging Face model folder has config.json beside its weights"
        ) from None
    except json.JSONDecodeError as error:
        raise ModelConfigError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise ModelConfigError(f"{path} is not a JSON object")
    return parse_model_config(raw)


def model_facts(folder: str | Path) -> dict:
    """The facts placement needs (layers, hidden, heads, ffn, vocabulary, family), as plain JSON values."""
    config = read_model_config(folder)
    return {
        "family": config.family,
        "layers": config.num_layers,
        "hidden": config.hidden_size,
        "heads": config.num_heads,
        "ffn": config.ffn_size,
        "vocab": config.vocab_size,
        "max_positions": config.max_positions,
        "position_embedding": config.position_embedding,
        "parameters": config.parameter_count,
        "config": asdict(config),
    }
