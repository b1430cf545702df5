"""Owns loading a Hugging Face model folder: config.json plus model.safetensors or pytorch_model.bin
(fp32, fp16 or bf16 on disk), into host numpy parameters in the compute dtype. No torch needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from .config import ModelConfig, read_model_config
from .params import CheckpointError, params_from_state
from .torch_pickle import read_torch_state_dict

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def read_state_dict(folder: str | Path) -> dict[str, np.ndarray]:
    folder = Path(folder)
    if (folder / "model.safetensors").exists():
        return load_file(folder / "model.safetensors")
    if (folder / "pytorch_model.bin").exists():
        return read_torch_state_dict(folder / "pytorch_model.bin")
    if any(folder.glob("*.index.json")):
        raise CheckpointError(f"{folder} holds a sharded checkpoint (*.index.json); merge it into model.safetensors")
    raise CheckpointError(f"{folder} has neither {' nor '.join(WEIGHT_FILES)}")


def load_model(folder: str | Path, dtype=np.float32) -> tuple[ModelConfig, dict]:
    config = read_model_config(folder)
    return config, params_from_state(read_state_dict(folder), config, dtype)
