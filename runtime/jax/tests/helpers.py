"""Test helpers: the repository paths, the golden jobs, seeded random NT folders written without torch, a
tokenizer mirroring steps/tokenize/nucleotide-transformer-tokenizer.ts (v2 vocabulary) for the sample data, and
an offline W&B run read back by W&B's own reader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

REPO = Path(__file__).resolve().parents[3]
TINY_NT = REPO / "models" / "tiny-nt"
TINY_ONNX = REPO / "models" / "tiny-nt.onnx"
SAMPLE = REPO / "workflows" / "data" / "sample.parquet"
# finetune/nt-lora's defaults as its pre-flight request's train-step options; test/unit/preflight-placements
# checks them against what steps/finetune/nt-lora.ts sends, so this file cannot drift from the step.
NT_LORA_DEFAULT_OPTIONS = json.loads((Path(__file__).parent / "nt_lora_default_options.json").read_text())
# Jobs the TypeScript side writes from checked workflows (engine/jax/jax-job.ts) and asserts equal to these files.
GOLDEN = Path(__file__).parent / "golden"


# W&B's command line: `leet inspect` reads an offline run's .wandb log back (no network).
_WANDB = Path(sys.executable).parent / "wandb"


def wandb_summary(folder: Path) -> dict:
    """An offline W&B run's summary (project, name, state, config)."""
    return json.loads(subprocess.check_output([_WANDB, "leet", "inspect", "--summary", "--json", str(folder)]))


def wandb_records(folder: Path) -> list[dict]:
    """An offline W&B run's records, in the order its .wandb log holds them."""
    out = subprocess.check_output([_WANDB, "leet", "inspect", "--json", str(folder)])
    return [json.loads(line) for line in out.splitlines()]


def golden(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text())


def write_random_v2(folder: Path, seed: int, hidden=64, heads=4, ffn=128, layers=2, vocab=4107) -> Path:
    """An NT-v2-shaped HF folder with seeded random weights (InstaDeep key names)."""
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {"esm.embeddings.word_embeddings.weight": rng.normal(size=(vocab, hidden))}

    def norm(prefix: str) -> None:
        state[f"{prefix}.weight"] = 1 + 0.1 * rng.normal(size=hidden)
        state[f"{prefix}.bias"] = 0.1 * rng.normal(size=hidden)

    for i in range(layers):
        p = f"esm.encoder.layer.{i}"
        for n in ("query", "key", "value"):
            state[f"{p}.attention.self.{n}.weight"] = rng.normal(size=(hidden, hidden)) / np.sqrt(hidden)
            state[f"{p}.attention.self.{n}.bias"] = 0.1 * rng.normal(size=hidden)
        state[f"{p}.attention.output.dense.weight"] = rng.normal(size=(hidden, hidden)) / np.sqrt(hidden)
        state[f"{p}.attention.output.dense.bias"] = 0.1 * rng.normal(size=hidden)
        norm(f"{p}.attention.LayerNorm")
        state[f"{p}.intermediate.dense.weight"] = rng.normal(size=(2 * ffn, hidden)) / np.sqrt(hidden)
        state[f"{p}.output.dense.weight"] = rng.normal(size=(hidden, ffn)) / np.sqrt(ffn)
        norm(f"{p}.LayerNorm")
    norm("esm.encoder.emb_layer_norm_after")
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.astype(np.float32) for k, v in state.items()}, folder / "model.safetensors")
    config = {
        "add_bias_fnn": False,
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "layer_norm_eps": 1e-12,
        "mask_token_id": 2,
        "max_position_embeddings": 2050,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "pad_token_id": 1,
        "position_embedding_type": "rotary",
        "token_dropout": False,
        "vocab_size": vocab,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def random_rows(seed: int, count: int, low: int, high: int, vocab: int = 4107) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        row = rng.integers(6, vocab, size=int(rng.integers(low, high + 1))).astype(np.int32)
        row[0] = 3  # CLS
        rows.append(row)
    return rows


_BASE = {"A": 0, "T": 1, "C": 2, "G": 3}
_V2 = {"unk": 0, "cls": 3, "kmer_base": 6, "letters": {"A": 4102, "T": 4103, "C": 4104, "G": 4105, "N": 4106}}


def tokenize_nt_v2(sequence: str, max_tokens: int = 2048) -> np.ndarray:
    out = [_V2["cls"]]
    i = 0
    while i < len(sequence):
        if sequence[i] in _BASE:
            end = i
            while end < len(sequence) and sequence[end] in _BASE:
                end += 1
            whole = i + (end - i) // 6 * 6
            while i < whole:
                index = 0
                for j in range(6):
                    index = index * 4 + _BASE[sequence[i + j]]
                out.append(_V2["kmer_base"] + index)
                i += 6
            out.extend(_V2["letters"][sequence[k]] for k in range(i, end))
            i = end
        else:
            out.append(_V2["letters"]["N"] if sequence[i] == "N" else _V2["unk"])
            i += 1
    return np.asarray(out[:max_tokens], dtype=np.int32)


def placement(device: str, per_device_batch: int, precision: str, mesh=(2, 2, 2)) -> dict:
    """A JobSpec's placement as the engine writes it (what the node was made for: the global batch is
    per-device x data x fsdp); the JAX worker reads the job's own placement."""
    data, fsdp, tp = mesh
    return {
        "device": device,
        "mesh": {"data": data, "fsdp": fsdp, "tp": tp},
        "perDeviceBatch": per_device_batch,
        "globalBatch": per_device_batch * data * fsdp,
        "precision": precision,
    }


def job_spec(**overrides) -> dict:
    """A JobSpec as engine/cloud/worker-contract.ts writes it (an embed step over one token shard, attempt 2 of
    two hosts); tests override the keys they are about."""
    digest = "b" * 64
    return {
        "schema": 1,
        "key": "a" * 64,
        "attempt": 2,
        "root": "gs://bucket/strand",
        "projectId": "p",
        "workers": 2,
        "progressSeconds": 10,
        "step": {"id": "embed", "uses": "embed/onnx", "version": "1", "params": {"model": "models/tiny-nt.onnx"}},
        "files": [{"path": "models/tiny-nt.onnx", "object": digest}],
        "inputs": {
            "tokens": {
                "schema": 1,
                "type": "tokens",
                "shards": [{"index": 0, "digest": digest, "rows": 250}],
                "meta": {"pad_id": 1},
            }
        },
        "outputs": {"embeddings": "embeddings"},
        "shards": [0, 1, 2, 3],
        "placement": placement("v5e-8", 16, "bf16"),
    } | overrides


def jax_placement(platform="cpu", hosts=1, mesh=(1, 1, 1), per_device_batch=4, precision="fp32", host_devices=None):
    """A job's placement (jax_job.schema.json JaxPlacement): the whole mesh over every host."""
    data, fsdp, tp = mesh
    return {
        "platform": platform,
        "hosts": hosts,
        "host_devices": host_devices,
        "mesh": {"data": data, "fsdp": fsdp, "tp": tp},
        "per_device_batch": per_device_batch,
        "precision": precision,
    }


def embed_job(**overrides) -> dict:
    """An EmbedJob of models/tiny-nt over NT v2 tokens (as embed/nt's builder writes one); tests override the
    keys they are about."""
    return {
        "kind": "embed",
        "model": "models/tiny-nt",
        "pooling": "mean",
        "include_cls": True,
        "prefix": 1,
        "normalize": False,
        "pad_id": 1,
        "max_length": 2048,
        "adapters": False,
        "placement": jax_placement(),
    } | overrides


def pack_directory(root: Path) -> bytes:
    """A folder packed as steps/finetune/directory-bytes.ts packs it: a 4-byte little-endian index length, the
    JSON index [{path, size}] sorted by path, then the files' bytes in that order."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    index = [{"path": p.relative_to(root).as_posix(), "size": p.stat().st_size} for p in files]
    header = json.dumps(index, separators=(",", ":")).encode()
    return len(header).to_bytes(4, "little") + header + b"".join(p.read_bytes() for p in files)
