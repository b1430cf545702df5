"""Parity (1): NT v1 against transformers.EsmModel, fp32, last hidden state to 1e-4 (max abs).

The oracle is the stock transformers ESM (learned positions, ESM position ids, token dropout, GELU with
biases, emb_layer_norm_after) with seeded random weights built here and saved by save_pretrained."""

import numpy as np
import pytest
import torch

from strand_jax.checkpoint import load_model, read_state_dict
from strand_jax.model import encode

TOLERANCE = 1e-4


# NT v1's shape (learned positions), small; the rest of the config is the seeded_esm fixture's.
V1 = {
    "vocab_size": 4105,
    "hidden_size": 64,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "intermediate_size": 256,
    "max_position_embeddings": 1002,
    "position_embedding_type": "absolute",
}


def inputs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, 4105, size=(4, 37)).astype(np.int64)
    ids[:, 0] = 3
    mask = np.ones_like(ids)
    for row, length in ((1, 20), (2, 9), (3, 30)):
        ids[row, length:] = 1
        mask[row, length:] = 0
    ids[0, 5] = ids[0, 11] = ids[3, 2] = 2  # <mask> tokens exercise token dropout
    return ids, mask


def oracle(model, ids, mask) -> np.ndarray:
    with torch.no_grad():
        return model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()


@pytest.mark.parametrize("token_dropout", [True, False])
def test_v1_matches_transformers_esm_model(tmp_path, seeded_esm, token_dropout):
    model = seeded_esm(7, token_dropout=token_dropout, **V1)
    model.save_pretrained(tmp_path)
    ids, mask = inputs(8)
    config, params = load_model(tmp_path)
    assert (config.family, config.position_embedding, config.token_dropout) == ("v1", "absolute", token_dropout)
    ours = np.asarray(encode(params, ids.astype(np.int32), mask.astype(np.int32), config))
    diff = np.abs(ours - oracle(model, ids, mask))
    print(f"v1 vs transformers.EsmModel (token_dropout={token_dropout}): max abs diff {diff.max():.2e}")
    assert diff.max() <= TOLERANCE


def test_pytorch_model_bin_of_a_masked_lm_is_read_without_torch(tmp_path, seeded_esm):
    model = seeded_esm(9, token_dropout=True, **V1)
    model.save_pretrained(tmp_path)
    safetensors_state = read_state_dict(tmp_path)
    # InstaDeep's folders hold EsmForMaskedLM: `esm.` prefix and an lm_head the encoder ignores.
    masked_lm = {f"esm.{k}": v for k, v in model.state_dict().items()}
    masked_lm["lm_head.dense.weight"] = torch.zeros(64, 64)
    (tmp_path / "model.safetensors").unlink()
    torch.save(masked_lm, tmp_path / "pytorch_model.bin")
    _, from_bin = load_model(tmp_path)
    _, from_safetensors = load_model_from_state(tmp_path, safetensors_state)
    for a, b in zip(leaves(from_bin), leaves(from_safetensors), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bf16_weights_load_and_stay_close_to_fp32(tmp_path, seeded_esm):
    model = seeded_esm(10, token_dropout=False, **V1).to(torch.bfloat16)
    model.save_pretrained(tmp_path)
    state = read_state_dict(tmp_path)
    assert str(next(iter(state.values())).dtype) == "bfloat16"
    config, params = load_model(tmp_path)
    ids, mask = inputs(11)
    ours = np.asarray(encode(params, ids.astype(np.int32), mask.astype(np.int32), config))
    diff = np.abs(ours - oracle(model.float(), ids, mask))
    assert diff.max() <= TOLERANCE


def load_model_from_state(folder, state):
    from strand_jax.config import read_model_config
    from strand_jax.params import params_from_state

    config = read_model_config(folder)
    return config, params_from_state(state, config)


def leaves(tree):
    for key in sorted(tree):
        value = tree[key]
        yield from leaves(value) if isinstance(value, dict) else [value]
