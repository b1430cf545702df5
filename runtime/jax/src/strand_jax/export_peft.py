"""Owns the exported formats of a LoRA fine-tune: the adapters in peft's format (`adapter_config.json` +
`adapter_model.safetensors` with the key names peft writes for a transformers `EsmModel`,
`base_model.model.encoder.layer.N.<module>.lora_A.weight` [rank, in] and `lora_B.weight` [out, rank]), read
back by `read_peft_adapters` for fine-tuned embeddings, and the head as safetensors in torch's [out, in]
layout (`hidden.weight`, `level_0.weight`, ...; the engine writes its ONNX from these).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from .config import ModelConfig
from .lora import TARGET_MODULES, LoraSettings, adapter_shapes

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
PREFIX = "base_model.model.encoder.layer"


def peft_target_modules(settings: LoraSettings) -> list[str] | str:
    """peft matches a listed name as a suffix of the module path; `output.dense` would also match the
    attention's `attention.output.dense`, so a choice with the feed-forward output is written as the full-match
    regex peft also accepts."""
    modules = [TARGET_MODULES[t] for t in settings.ordered_targets]
    if "output" not in settings.targets:
        return modules
    return r".*\.layer\.\d+\.(" + "|".join(m.replace(".", r"\.") for m in modules) + ")"


def adapter_config(settings: LoraSettings, base_model: str) -> dict:
    return {
        "peft_type": "LORA",
        "task_type": None,
        "base_model_name_or_path": base_model,
        "r": settings.rank,
        "lora_alpha": settings.alpha,
        "lora_dropout": settings.dropout,
        "target_modules": peft_target_modules(settings),
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "use_rslora": False,
        "use_dora": False,
        "modules_to_save": None,
        "layers_to_transform": None,
        "layers_pattern": None,
        "rank_pattern": {},
        "alpha_pattern": {},
    }


def _to_torch_layout(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One layer's (a, b) in the kernel layout -> (lora_A [rank, in], lora_B [out, rank])."""
    r = a.shape[-1]
    return a.reshape(-1, r).T, b.reshape(r, -1).T


def peft_state(adapters: dict, config: ModelConfig) -> dict[str, np.ndarray]:
    state = {}
    for target, pair in adapters.items():
        a_all, b_all = np.asarray(pair["a"], np.float32), np.asarray(pair["b"], np.float32)
        for layer in range(config.num_layers):
            lora_a, lora_b = _to_torch_layout(a_all[layer], b_all[layer])
            key = f"{PREFIX}.{layer}.{TARGET_MODULES[target]}"
            state[f"{key}.lora_A.weight"] = np.ascontiguousarray(lora_a)
            state[f"{key}.lora_B.weight"] = np.ascontiguousarray(lora_b)
    return state


def write_peft_adapters(
    folder: str | Path, adapters: dict, config: ModelConfig, settings: LoraSettings, base_model: str
) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(
        folder / ADAPTER_WEIGHTS, lambda p: save_file(peft_state(adapters, config), p, metadata={"format": "pt"})
    )
    text = json.dumps(adapter_config(settings, base_model), indent=2, sort_keys=True)
    _write_atomic(folder / ADAPTER_CONFIG, lambda p: Path(p).write_text(text))


def read_peft_adapters(folder: str | Path, config: ModelConfig) -> tuple[dict, LoraSettings]:
    """The adapters of a peft folder (written by this module or by peft for an EsmModel), in the kernel layout."""
    folder = Path(folder)
    try:
        raw = json.loads((folder / ADAPTER_CONFIG).read_text())
        state = load_file(folder / ADAPTER_WEIGHTS)
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(
            f"{folder} is not a peft adapter folder ({ADAPTER_CONFIG} + {ADAPTER_WEIGHTS}): {error}"
        ) from None
    if raw.get("peft_type") != "LORA" or raw.get("use_rslora") or raw.get("use_dora"):
        raise ValueError(f"{folder / ADAPTER_CONFIG}: only plain LoRA adapters are supported (no rsLoRA, no DoRA)")
    targets = tuple(t for t, m in TARGET_MODULES.items() if f"{PREFIX}.0.{m}.lora_A.weight" in state)
    settings = LoraSettings(rank=int(raw["r"]), alpha=float(raw["lora_alpha"]), dropout=0.0, targets=targets)
    adapters = {}
    for target, shapes in adapter_shapes(config, settings).items():
        a_layers, b_layers = [], []
        for layer in range(config.num_layers):
            key = f"{PREFIX}.{layer}.{TARGET_MODULES[target]}"
            try:
                lora_a, lora_b = state[f"{key}.lora_A.weight"], state[f"{key}.lora_B.weight"]
            except KeyError as missing:
                raise ValueError(f"{folder / ADAPTER_WEIGHTS} has no {missing.args[0]}") from None
            a_layers.append(lora_a.T.reshape(shapes["a"][1:]))
            b_layers.append(lora_b.T.reshape(shapes["b"][1:]))
        adapters[target] = {"a": np.stack(a_layers).astype(np.float32), "b": np.stack(b_layers).astype(np.float32)}
    return adapters, settings


def write_head(path: str | Path, head: dict, meta: dict) -> None:
    """The head's tensors (fp32, [out, in]) with the label maps as JSON in the safetensors metadata."""
    tensors = {f"{block}.{name}": np.asarray(v, np.float32) for block, pair in head.items() for name, v in pair.items()}
    _write_atomic(path, lambda p: save_file(tensors, p, metadata={"strand.head": json.dumps(meta, sort_keys=True)}))


def _write_atomic(path: str | Path, write) -> None:
    path = Path(path)
    temporary = path.with_name(f".tmp-{path.name}")
    write(str(temporary))
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
