"""The subprocess entry point the engine calls: `run RUN.json` (a LocalRun: the job and this machine's paths)
with token shards in the tokenize steps' Arrow layout, vector shards out in embed/onnx's layout, a JSON line
per durable shard and a summary line last; a train job's lines ending in `train-summary`; and clear errors
(`error: ...`, exit code 1), including a job placed on a GPU this machine does not have."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pyarrow as pa
from helpers import TINY_NT, embed_job, golden, jax_placement, random_rows

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


def cli_env():
    # The run's placement sets JAX up, not the test runner's 8-device flags.
    return {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_PLATFORMS")}


def run_cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "strand_jax", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        stdin=stdin,
        check=False,
    )


def write_run(tmp_path, job, paths, name="run.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"job": job, "paths": paths}))
    return str(path)


def embed_paths(tokens, out, model=TINY_NT):
    return {"model": str(model), "tokens": [str(t) for t in tokens], "out": str(out)}


def test_run_embeds_shards_into_vector_shards_equal_to_an_in_process_run(tmp_path):
    rows = random_rows(seed=41, count=30, low=4, high=90)
    # Rows 3 and 4 are two windows of one long sequence: the artifact has one averaged vector for it.
    ids = [f"s{i}" for i in range(30)]
    ids[4] = "s3"
    write_token_shard(tmp_path / "000000.arrow", ids[:15], rows[:15])
    write_token_shard(tmp_path / "000001.arrow", ids[15:], rows[15:])
    out = tmp_path / "vectors"
    shards = [tmp_path / "000000.arrow", tmp_path / "000001.arrow"]
    job = embed_job(max_length=90, placement=jax_placement("cpu", mesh=(2, 2, 2), per_device_batch=3, host_devices=8))
    done = run_cli("run", write_run(tmp_path, job, embed_paths(shards, out)))
    assert done.returncode == 0, done.stderr
    *progress, summary = [json.loads(line) for line in done.stdout.strip().splitlines()]
    # One line per shard as it becomes durable, so the engine can record it before the next one starts.
    assert progress == [
        {"kind": "shard-done", "index": i, "file": str(out / f"00000{i}.arrow"), "sequences": n}
        for i, n in ((0, 14), (1, 15))
    ]
    assert summary["kind"] == "embed-summary" and summary["devices"] == 8 and summary["global_batch"] == 12
    assert summary["platform"] == "cpu" and summary["mesh"] == {"data": 2, "fsdp": 2, "tp": 2}
    # The CPU keeps no allocator peak; a GPU or TPU reports one (bench/accelerator reads it).
    assert summary["peak_bytes_per_device"] is None
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


def test_run_trains_and_prints_the_summary_last(tmp_path):
    from test_lora_train import write_examples

    write_examples(tmp_path / "examples.arrow")
    job = golden("train-job.json") | {
        "base_model": "models/tiny-nt",
        "levels": ["kingdom", "genus"],
        "classes": [["K0", "K1"], ["G0", "G1", "G2", "G3"]],
        "length": {"steps": 2},
        "placement": jax_placement("cpu", per_device_batch=2, host_devices=1),
    }
    job["settings"] = job["settings"] | {"weights": [1.0, 1.0], "hidden": 8}
    paths = {
        "model": str(TINY_NT),
        "data": str(tmp_path / "examples.arrow"),
        "out": str(tmp_path / "out"),
        "checkpoints": str(tmp_path / "checkpoints"),
        "tensorboard": str(tmp_path / "tensorboard"),
    }
    done = run_cli("run", write_run(tmp_path, job, paths))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [line["kind"] for line in lines] == ["train-progress", "train-progress", "eval", "train-summary"]
    summary = lines[-1]
    assert (summary["steps"], summary["devices"], summary["platform"]) == (2, 1, "cpu")
    assert (tmp_path / "out" / "adapters" / "adapter_config.json").exists()


def test_exits_when_stdin_closes_so_a_killed_engine_leaves_no_orphan(tmp_path):
    tokens = tmp_path / "t.arrow"
    write_token_shard(tokens, ["a"], random_rows(seed=43, count=1, low=5, high=5))
    run = write_run(tmp_path, embed_job(), embed_paths([tokens], tmp_path / "o"))
    done = run_cli("run", run, "--exit-with-stdin", stdin=subprocess.DEVNULL)
    assert done.returncode == 3


def test_facts_prints_the_model_facts():
    done = run_cli("facts", "--model", str(TINY_NT))
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert (facts["family"], facts["layers"], facts["hidden"], facts["heads"], facts["vocab"]) == ("v2", 2, 64, 4, 4107)


def test_a_job_placed_on_a_gpu_stops_before_loading_the_model_when_jax_sees_only_the_cpu(tmp_path):
    # The model folder does not exist: the platform is checked first, so this is not what the run reports.
    job = embed_job(placement=jax_placement("gpu"))
    done = run_cli(
        "run", write_run(tmp_path, job, embed_paths([tmp_path / "t.arrow"], tmp_path / "o", tmp_path / "nowhere"))
    )
    assert done.returncode == 1
    assert done.stderr == (
        "error: this step is placed on a gpu, and JAX here sees only cpu devices; install the accelerator plugin "
        "into the runtime's venv (`strand doctor` says how)\n"
    )
    assert done.stdout == ""


def test_bad_input_gets_a_clear_message_and_exit_1(tmp_path):
    tokens = tmp_path / "t.arrow"
    write_token_shard(tokens, ["a"], random_rows(seed=42, count=1, low=5, high=5))

    def run(job, shard=tokens, model=TINY_NT):
        run.count += 1
        return write_run(tmp_path, job, embed_paths([shard], tmp_path / "o", model), f"run-{run.count}.json")

    run.count = 0

    cases = [
        (run(embed_job(), model=tmp_path), "config.json not found"),
        (
            run(embed_job(placement=jax_placement(mesh=(1, 1, 3), host_devices=3))),
            "tp=3 does not divide the model's 4 attention heads",
        ),
        (run(embed_job(), shard=tmp_path / "missing.arrow"), "is not an Arrow IPC file"),
        (run(embed_job(placement=jax_placement(mesh=(2, 2, 2)))), "needs 8 devices, 1 are available"),
        (run(embed_job(pad_id=0)), "tokens are padded with 0, the model's pad_token_id is 1"),
        (
            run(embed_job(batch_size=8)),
            "LocalRun at job: Additional properties are not allowed ('batch_size' was unexpected)",
        ),
    ]
    for args, message in cases:
        done = run_cli("run", args)
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
        assert done.stderr.startswith("error: ")
    usage = run_cli("run")
    assert usage.returncode == 2
