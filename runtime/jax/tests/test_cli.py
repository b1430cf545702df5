"""The subprocess entry point the engine calls: token shards in the tokenize steps' Arrow layout, vector
shards out in embed/onnx's layout, a JSON summary line, and clear errors with exit code 1."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pyarrow as pa
from helpers import TINY_NT, random_rows

from strand_jax.arrow_shards import read_token_shard
from strand_jax.checkpoint import load_model
from strand_jax.embedder import Embedder
from strand_jax.sharding import MeshSpec


def write_token_shard(path, ids, rows):
    """As steps/tokenize/token-shards.ts writes one: id utf8, tokens list<int32>, length int32 (IPC file)."""
    tokens = pa.array([r.tolist() for r in rows], type=pa.list_(pa.field("item", pa.int32(), nullable=False)))
    table = pa.table(
        {"id": pa.array(ids, pa.utf8()), "tokens": tokens, "length": pa.array([len(r) for r in rows], pa.int32())}
    )
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def run_cli(*args):
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    return subprocess.run(
        [sys.executable, "-m", "strand_jax", *args], capture_output=True, text=True, env=env, check=False
    )


def test_embed_writes_vector_shards_equal_to_an_in_process_run(tmp_path):
    rows = random_rows(seed=41, count=30, low=4, high=90)
    # Rows 3 and 4 are two windows of one long sequence: the artifact has one averaged vector for it.
    ids = [f"s{i}" for i in range(30)]
    ids[4] = "s3"
    write_token_shard(tmp_path / "000000.arrow", ids[:15], rows[:15])
    write_token_shard(tmp_path / "000001.arrow", ids[15:], rows[15:])
    out = tmp_path / "vectors"
    shards = [str(tmp_path / "000000.arrow"), str(tmp_path / "000001.arrow")]
    placement = ["--mesh", "2,2,2", "--per-device-batch", "3", "--host-devices", "8"]
    done = run_cli("embed", "--model", str(TINY_NT), "--tokens", *shards, "--out", str(out), *placement)
    assert done.returncode == 0, done.stderr
    *progress, summary = [json.loads(line) for line in done.stdout.strip().splitlines()]
    # One line per shard as it becomes durable, so the engine can record it before the next one starts.
    assert progress == [
        {"kind": "shard-done", "index": i, "file": str(out / f"00000{i}.arrow"), "sequences": n}
        for i, n in ((0, 14), (1, 15))
    ]
    assert summary["kind"] == "embed-summary" and summary["devices"] == 8 and summary["global_batch"] == 12
    assert [c["bucket"] for c in summary["compiled"]] == summary["buckets"]
    assert (summary["sequences"], summary["rows"], summary["dim"]) == (29, 30, 64)
    assert summary["compilations"] == len(summary["buckets"]) == 3  # 32, 64, 90

    config, params = load_model(TINY_NT)
    expected = Embedder(config, params, MeshSpec(1, 1, 1), 4, max_length=90, devices=jax.devices()[:1]).embed(rows)
    first = pa.ipc.open_file(str(out / "000000.arrow")).read_all()
    assert first.schema.field("vector").type == pa.list_(pa.field("item", pa.float32(), nullable=False), 64)
    assert first.column("id").to_pylist() == [f"s{i}" for i in range(15) if i != 4]
    vectors = np.asarray(first.column("vector").combine_chunks().flatten()).reshape(-1, 64)
    np.testing.assert_allclose(vectors[3], (expected[3] + expected[4]) / 2, atol=1e-5)
    np.testing.assert_allclose(np.delete(vectors, 3, axis=0), np.delete(expected[:15], [3, 4], axis=0), atol=1e-5)
    assert read_token_shard(tmp_path / "000001.arrow")[0] == ids[15:]


def test_exits_when_stdin_closes_so_a_killed_engine_leaves_no_orphan(tmp_path):
    tokens = tmp_path / "t.arrow"
    write_token_shard(tokens, ["a"], random_rows(seed=43, count=1, low=5, high=5))
    args = [
        "embed",
        "--model",
        str(TINY_NT),
        "--tokens",
        str(tokens),
        "--out",
        str(tmp_path / "o"),
        "--exit-with-stdin",
    ]
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    done = subprocess.run(
        [sys.executable, "-m", "strand_jax", *args], stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False
    )
    assert done.returncode == 3


def test_facts_prints_the_model_facts():
    done = run_cli("facts", "--model", str(TINY_NT))
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert (facts["family"], facts["layers"], facts["hidden"], facts["heads"], facts["vocab"]) == ("v2", 2, 64, 4, 4107)


def test_bad_input_gets_a_clear_message_and_exit_1(tmp_path):
    tokens = tmp_path / "t.arrow"
    write_token_shard(tokens, ["a"], random_rows(seed=42, count=1, low=5, high=5))

    def embed(model, shard, *extra):
        return ["embed", "--model", str(model), "--tokens", str(shard), "--out", str(tmp_path / "o"), *extra]

    cases = [
        (embed(tmp_path, tokens), "config.json not found"),
        (
            embed(TINY_NT, tokens, "--mesh", "1,1,3", "--host-devices", "3"),
            "tp=3 does not divide the model's 4 attention heads",
        ),
        (embed(TINY_NT, tmp_path / "missing.arrow"), "is not an Arrow IPC file"),
        (embed(TINY_NT, tokens, "--mesh", "2,2,2"), "needs 8 devices, 1 are available"),
    ]
    for args, message in cases:
        done = run_cli(*args)
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
        assert done.stderr.startswith("error: ")
