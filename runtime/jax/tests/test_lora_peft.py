"""LoRA adapters in peft's format. Oracle: peft 0.21 itself on transformers' EsmModel (NT v2 via torch_nt's
SwiGLU patch) built from the repository's tiny NT folder. (1) our export has exactly the keys and shapes peft
writes for the same LoraConfig; (2) `PeftModel.from_pretrained` on our export reproduces the JAX encoder with
the same nonzero adapters, fp32, last hidden state to 1e-4 (max abs); (3) reading the folder back is lossless."""

import numpy as np
import peft
import pytest
import torch
from helpers import TINY_NT
from torch_nt import esm_model_from_folder

from strand_jax.checkpoint import load_model
from strand_jax.export_peft import peft_target_modules, read_peft_adapters, write_peft_adapters
from strand_jax.lora import TARGET_MODULES, LoraApply, LoraSettings, init_adapters
from strand_jax.model import encode

TOLERANCE = 1e-4
ALL = tuple(TARGET_MODULES)


def peft_written_state(settings: LoraSettings) -> dict[str, tuple[int, ...]]:
    config = peft.LoraConfig(r=settings.rank, lora_alpha=settings.alpha, target_modules=peft_target_modules(settings))
    model = peft.get_peft_model(esm_model_from_folder(TINY_NT), config)
    return {k: tuple(v.shape) for k, v in peft.get_peft_model_state_dict(model).items()}


@pytest.mark.parametrize("targets", [("query", "value"), ALL, ("output",), ("attention_output", "intermediate")])
def test_export_has_the_keys_and_shapes_peft_writes(tmp_path, targets):
    import jax
    from safetensors.numpy import load_file

    settings = LoraSettings(rank=4, alpha=8, targets=targets)
    config, _ = load_model(TINY_NT)
    write_peft_adapters(tmp_path, init_adapters(config, settings, jax.random.PRNGKey(0)), config, settings, "tiny-nt")
    ours = {k: v.shape for k, v in load_file(tmp_path / "adapter_model.safetensors").items()}
    assert ours == peft_written_state(settings)
    if targets == ("query", "value"):
        assert "base_model.model.encoder.layer.1.attention.self.query.lora_A.weight" in ours


def test_peft_from_pretrained_reproduces_the_jax_hidden_states(tmp_path):
    import jax

    settings = LoraSettings(rank=4, alpha=8, dropout=0.1, targets=ALL)
    config, params = load_model(TINY_NT)
    adapters = init_adapters(config, settings, jax.random.PRNGKey(7), b_scale=0.2)
    write_peft_adapters(tmp_path, adapters, config, settings, str(TINY_NT))
    rng = np.random.default_rng(3)
    ids = rng.integers(6, 4107, size=(3, 40)).astype(np.int64)
    ids[:, 0] = 3
    mask = np.ones_like(ids)
    ids[1, 20:], mask[1, 20:] = 1, 0
    apply = LoraApply(settings.scale)
    ours = np.asarray(
        encode(params, ids.astype(np.int32), mask.astype(np.int32), config, adapters=adapters, lora=apply)
    )
    plain = np.asarray(encode(params, ids.astype(np.int32), mask.astype(np.int32), config))
    model = peft.PeftModel.from_pretrained(esm_model_from_folder(TINY_NT), str(tmp_path)).eval()
    with torch.no_grad():
        theirs = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()
    diff = np.abs(ours - theirs).max()
    print(
        f"JAX + LoRA vs peft EsmModel: max abs diff {diff:.2e} (adapters move the output by {np.abs(ours - plain).max():.2e})"
    )
    assert np.abs(ours - plain).max() > 100 * TOLERANCE
    assert diff <= TOLERANCE

    back, read = read_peft_adapters(tmp_path, config)
    assert (read.rank, read.alpha, read.targets) == (4, 8.0, ALL)
    for target in ALL:
        for part in ("a", "b"):
            assert np.array_equal(back[target][part], np.asarray(adapters[target][part]))
