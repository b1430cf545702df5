"""Test oracle setup: transformers' EsmModel made into NT v2 (rotary + SwiGLU). Everything but the
feed-forward is transformers'; the SwiGLU patch is the ten lines written from InstaDeep's NT-v2 modeling code
(one bias-free Linear to 2 x intermediate, split in halves, SiLU(first) x second, a bias-free Linear back).
`esm_model_from_folder` loads an NT v2 Hugging Face folder (InstaDeep key names) into that model."""

from __future__ import annotations

import json
from pathlib import Path

import transformers
from safetensors.torch import load_file
from torch import nn


class SwiGLU(nn.Module):
    def __init__(self, hidden: int, ffn: int):
        super().__init__()
        self.dense = nn.Linear(hidden, 2 * ffn, bias=False)

    def forward(self, x):
        gate, up = self.dense(x).chunk(2, dim=-1)
        return nn.functional.silu(gate) * up


def patch_swiglu(model: transformers.EsmModel) -> transformers.EsmModel:
    hidden, ffn = model.config.hidden_size, model.config.intermediate_size
    for layer in model.encoder.layer:
        layer.intermediate = SwiGLU(hidden, ffn)
        layer.output.dense = nn.Linear(ffn, hidden, bias=False)
    return model


def esm_model_from_folder(folder: Path) -> transformers.EsmModel:
    raw = json.loads((folder / "config.json").read_text())
    keep = {k: v for k, v in raw.items() if not k.startswith("strand.") and k not in ("architectures", "add_bias_fnn")}
    for k in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
        keep[k] = float(keep.get(k, 0.0))  # transformers 5 wants floats; the folder has 0
    model = patch_swiglu(transformers.EsmModel(transformers.EsmConfig(**keep), add_pooling_layer=False))
    state = {k.removeprefix("esm."): v for k, v in load_file(folder / "model.safetensors").items()}
    state = {k: v for k, v in state.items() if "inv_freq" not in k}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(
        ("inv_freq" in k or "position_ids" in k or k.startswith("contact_head.")) for k in missing
    ), (missing, unexpected)
    return model.eval()
