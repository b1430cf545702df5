"""Parity (2): the repository's small model in both forms. models/tiny-nt.onnx under onnxruntime and
models/tiny-nt/ (same seeded weights, safetensors) under JAX give the same pooled vectors, to 1e-4 (max
abs, fp32), on the ITS sample data (workflows/data/sample.parquet, tokenized as NT v2 like the quickstart)."""

import json

import jax
import numpy as np
import onnxruntime
import pyarrow.parquet as pq
import pytest
from helpers import SAMPLE, TINY_NT, TINY_ONNX, tokenize_nt_v2

from strand_jax.checkpoint import load_model
from strand_jax.config import model_facts
from strand_jax.embedder import Embedder
from strand_jax.pooling import PoolingRule
from strand_jax.sharding import MeshSpec

TOLERANCE = 1e-4


def pool_numpy(hidden: np.ndarray, lengths: list[int], rule: PoolingRule) -> np.ndarray:
    """Pooling as steps/embed/pooling.ts does it, over one onnxruntime batch."""
    out = []
    for b, length in enumerate(lengths):
        if rule.pooling == "cls":
            out.append(hidden[b, 0])
            continue
        start = 0 if rule.include_cls or length <= rule.prefix else rule.prefix
        rows = hidden[b, start:length]
        out.append(rows.max(axis=0) if rule.pooling == "max" else rows.mean(axis=0))
    return np.stack(out)


def onnxruntime_vectors(rows: list[np.ndarray], rule: PoolingRule, batch: int = 32) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(TINY_ONNX), providers=["CPUExecutionProvider"])
    vectors = []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        width = max(len(r) for r in chunk)
        ids = np.ones((len(chunk), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, r in enumerate(chunk):
            ids[i, : len(r)], mask[i, : len(r)] = r, 1
        hidden = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})[0]
        vectors.append(pool_numpy(hidden, [len(r) for r in chunk], rule))
    return np.concatenate(vectors)


@pytest.fixture(scope="module")
def sample_rows():
    return [tokenize_nt_v2(s) for s in pq.read_table(SAMPLE, columns=["sequence"]).column("sequence").to_pylist()]


@pytest.mark.parametrize(
    "rule",
    [
        PoolingRule("mean", include_cls=True),
        PoolingRule("mean", include_cls=False),
        PoolingRule("cls"),
        PoolingRule("max"),
    ],
    ids=lambda r: f"{r.pooling}-cls{int(r.include_cls)}",
)
def test_onnx_and_jax_forms_give_the_same_vectors_on_the_its_sample(sample_rows, rule):
    config, params = load_model(TINY_NT)
    spec = MeshSpec(2, 2, 2)
    embedder = Embedder(
        config, params, spec, per_device_batch=16, rule=rule, max_length=max(len(r) for r in sample_rows)
    )
    ours = embedder.embed(sample_rows)
    expected = onnxruntime_vectors(sample_rows, rule)
    diff = np.abs(ours - expected).max()
    print(
        f"tiny-nt {rule.pooling} include_cls={rule.include_cls}: JAX (2x2x2) vs onnxruntime max abs diff {diff:.2e}, compilations {embedder.stats.programs} for {len(sample_rows)} sequences"
    )
    assert len(sample_rows) == 1000 and ours.shape == (1000, 64)
    assert diff <= TOLERANCE
    assert embedder.stats.programs <= len(embedder.buckets)


def test_the_hugging_face_form_states_the_onnx_forms_architecture():
    facts = model_facts(TINY_NT)
    assert {k: facts[k] for k in ("family", "layers", "hidden", "heads", "ffn", "vocab", "position_embedding")} == {
        "family": "v2",
        "layers": 2,
        "hidden": 64,
        "heads": 4,
        "ffn": 256,
        "vocab": 4107,
        "position_embedding": "rotary",
    }
    metadata = (
        onnxruntime.InferenceSession(str(TINY_ONNX), providers=["CPUExecutionProvider"])
        .get_modelmeta()
        .custom_metadata_map
    )
    assert (metadata["strand.layers"], metadata["strand.hidden"], metadata["strand.heads"]) == ("2", "64", "4")
    assert json.loads((TINY_NT / "config.json").read_text())["add_bias_fnn"] is False
    assert len(jax.devices()) == 8
