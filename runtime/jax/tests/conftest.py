"""Test setup: eight XLA CPU devices (set before jax is first imported), shared paths and fixtures."""

import atexit
import os
import shutil
import tempfile

import pytest

os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=8".strip()
os.environ["JAX_PLATFORMS"] = "cpu"
# The oracles come from transformers; nothing may reach for the Hugging Face hub.
os.environ["HF_HUB_OFFLINE"] = "1"
# One XLA compilation cache for the session (a fresh folder, removed at exit) unless the caller names one: tests
# build the same tiny programs again and again, in this process and in the ones they start, and JAX keys entries
# by the program, its compile options and the backend, so a hit is the executable XLA would build.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="strand-pytest-xla-cache-")
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], True)
os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"


@pytest.fixture
def seeded_esm():
    """Builds a parity oracle: a stock transformers.EsmModel (NT's pad/mask ids, no dropout, final LayerNorm)
    with seeded random weights. `customize` swaps modules (v2's SwiGLU) before the weights are drawn."""
    import torch
    import transformers

    def build(seed: int, customize=None, **config) -> transformers.EsmModel:
        torch.manual_seed(seed)
        settings = {
            "pad_token_id": 1,
            "mask_token_id": 2,
            "emb_layer_norm_before": False,
            "layer_norm_eps": 1e-12,
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
        }
        model = transformers.EsmModel(transformers.EsmConfig(**settings, **config), add_pooling_layer=False)
        if customize is not None:
            customize(model)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "LayerNorm" in name or "layer_norm" in name:
                    p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn_like(p))
                elif name.endswith("bias"):
                    p.copy_(0.1 * torch.randn_like(p))
                else:
                    scale = p.shape[-1] ** 0.5 if p.dim() == 2 and "embeddings" not in name else 1.0
                    p.copy_(torch.randn_like(p) / scale)
        return model.eval()

    return build
