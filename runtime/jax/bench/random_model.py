"""Writes a Hugging Face NT folder with seeded random weights for a config.json: the shapes of a real export
(NT-2.5B, NT-500M), no download. bench/accelerator runs embed/nt on it.

    python bench/random_model.py CONFIG.json OUT_DIR [--seed 0]

The state dict's keys and shapes are the ones params.params_from_state reads, so the runtime loads the folder
as it loads InstaDeep's exports; weights are written in float32 (~10 GB for NT-2.5B).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from strand_jax.config import read_model_config


def random_state(config, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, f = config.hidden_size, config.ffn_size
    state: dict[str, np.ndarray] = {}

    def put(key: str, *shape: int, scale: float) -> None:
        state[f"esm.{key}"] = (scale * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)

    def norm(prefix: str) -> None:
        state[f"esm.{prefix}.weight"] = np.ones(h, np.float32)
        state[f"esm.{prefix}.bias"] = np.zeros(h, np.float32)

    put("embeddings.word_embeddings.weight", config.vocab_size, h, scale=0.02)
    if config.position_embedding == "absolute":
        put("embeddings.position_embeddings.weight", config.max_positions, h, scale=0.02)
    if config.emb_layer_norm_before:
        norm("embeddings.layer_norm")
    for i in range(config.num_layers):
        p = f"encoder.layer.{i}"
        for name in ("query", "key", "value"):
            put(f"{p}.attention.self.{name}.weight", h, h, scale=h**-0.5)
            put(f"{p}.attention.self.{name}.bias", h, scale=0.02)
        put(f"{p}.attention.output.dense.weight", h, h, scale=h**-0.5)
        put(f"{p}.attention.output.dense.bias", h, scale=0.02)
        norm(f"{p}.attention.LayerNorm")
        put(f"{p}.intermediate.dense.weight", 2 * f if config.glu else f, h, scale=h**-0.5)
        put(f"{p}.output.dense.weight", h, f, scale=f**-0.5)
        if config.ffn_bias:
            put(f"{p}.intermediate.dense.bias", f, scale=0.02)
            put(f"{p}.output.dense.bias", h, scale=0.02)
        norm(f"{p}.LayerNorm")
    norm("encoder.emb_layer_norm_after")
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.config, out / "config.json")
    config = read_model_config(out)
    save_file(random_state(config, args.seed), out / "model.safetensors")
    print(json.dumps({"folder": str(out), "family": config.family, "layers": config.num_layers}))


if __name__ == "__main__":
    main()
