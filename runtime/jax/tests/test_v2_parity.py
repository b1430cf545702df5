"""Parity (3): NT v2 against an independent reference, fp32, last hidden state to 1e-4 (max abs).

The reference is transformers' own ESM code (embeddings, attention with its RotaryEmbedding applied after
the query scaling, pre-LayerNorm layers, emb_layer_norm_after) with rotary positions, and its feed-forward
replaced by the SwiGLU of InstaDeep's NT-v2 modeling code: one bias-free Linear to 2 x intermediate, split
in halves, SiLU(first) x second, then a bias-free Linear back. Only that ten-line patch is ours (written
from InstaDeep's published code); the rest of the oracle is transformers'. Weights are seeded here and
saved under InstaDeep's key names (`esm.` prefix, rotary inv_freq buffers included)."""

import json

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from torch_nt import patch_swiglu

from strand_jax.checkpoint import load_model
from strand_jax.model import encode

TOLERANCE = 1e-4


def build_nt_v2(seeded_esm, seed: int, hidden=64, heads=4, ffn=96, layers=3) -> transformers.EsmModel:
    return seeded_esm(
        seed,
        customize=patch_swiglu,
        vocab_size=4107,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        max_position_embeddings=2050,
        position_embedding_type="rotary",
        token_dropout=False,
    )


def save_like_instadeep(model: transformers.EsmModel, folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {f"esm.{k}": v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, folder / "model.safetensors")
    config = model.config.to_dict()
    config["add_bias_fnn"] = False
    (folder / "config.json").write_text(json.dumps(config))


def test_v2_matches_transformers_esm_with_rotary_and_swiglu(tmp_path, seeded_esm):
    model = build_nt_v2(seeded_esm, 21)
    save_like_instadeep(model, tmp_path)
    rng = np.random.default_rng(22)
    ids = rng.integers(6, 4107, size=(3, 45)).astype(np.int64)
    ids[:, 0] = 3
    mask = np.ones_like(ids)
    ids[1, 17:], mask[1, 17:] = 1, 0
    ids[2, 40:], mask[2, 40:] = 1, 0
    with torch.no_grad():
        expected = model(
            input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)
        ).last_hidden_state.numpy()
    config, params = load_model(tmp_path)
    assert (config.family, config.position_embedding, config.glu, config.ffn_bias) == ("v2", "rotary", True, False)
    ours = np.asarray(encode(params, ids.astype(np.int32), mask.astype(np.int32), config))
    diff = np.abs(ours - expected)
    print(f"v2 vs transformers ESM + SwiGLU: max abs diff {diff.max():.2e}")
    assert diff.max() <= TOLERANCE
