"""The pre-flight (preflight.py, with preflight_memory.py, preflight_flops.py and preflight_search.py)
compiling the runtime's real embedding forward for a TPU topology with libtpu and no TPU. Shapes are chosen
to compile in seconds here: one layer with a 2^24-wide feed-forward makes 6 GiB of bf16 weights and ~1 GiB
of activations per row at 32 tokens, so a v5e chip (15.75G for XLA) fits a handful of rows and XLA refuses
the rest."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from helpers import TINY_NT

from strand_jax import preflight
from strand_jax.checkpoint import load_model
from strand_jax.config import parse_model_config
from strand_jax.params import param_shapes
from strand_jax.pooling import PoolingRule
from strand_jax.preflight import run_preflight
from strand_jax.preflight_cli import answer_one
from strand_jax.preflight_flops import compiled_flops
from strand_jax.preflight_memory import parse_out_of_memory
from strand_jax.preflight_programs import ProgramRequest
from strand_jax.preflight_search import search_batch
from strand_jax.sharding import MeshSpec
from strand_jax.tpu_topology import build_topology, chips_per_host_bounds

WIDE = {
    "add_bias_fnn": False,
    "hidden_size": 64,
    "intermediate_size": 2**24,
    "layer_norm_eps": 1e-12,
    "mask_token_id": 2,
    "max_position_embeddings": 2050,
    "num_attention_heads": 4,
    "num_hidden_layers": 1,
    "pad_token_id": 1,
    "position_embedding_type": "rotary",
    "token_dropout": False,
    "vocab_size": 4107,
}


def request(batch, config=WIDE, **more):
    base = {
        "program": "embed-forward",
        "topology": "v5e:1x1",
        "mesh": {"data": 1, "fsdp": 1, "tp": 1},
        "batch": batch,
        "max_length": 32,
        "precision": "bf16",
        "model": {"config": config},
        "fixes": False,
    }
    return {**base, **more}


@pytest.fixture
def compiled_lengths(monkeypatch):
    """The length of every compile from here on, in order. The compiles are real; the wrapper only notes their
    lengths, and a fresh memo makes every measure compile (none is recalled from another test's)."""
    lengths = []
    compile_ = preflight.Target._compile

    def noted(self, config, mesh, batch, length, unroll, precision):
        lengths.append(length)
        return compile_(self, config, mesh, batch, length, unroll, precision)

    monkeypatch.setattr(preflight.Target, "_compile", noted)
    monkeypatch.setattr(preflight, "_MEASURED", {})
    return lengths


def test_the_longest_bucket_is_compiled_first_and_the_answer_lists_buckets_shortest_first(compiled_lengths):
    # The longest bucket is the one that does not fit, or crashes the compiler, if any does: compiled first, a
    # crash costs one compile.
    tiny = json.loads((TINY_NT / "config.json").read_text())
    answer = run_preflight(request(1, tiny, max_length=128))
    assert compiled_lengths[0] == 128
    assert [b["length"] for b in answer["buckets"]] == [32, 64, 128]


def test_xla_figures_are_parsed_from_the_resource_exhausted_message():
    message = (
        "jaxlib.XlaRuntimeError: RESOURCE_EXHAUSTED: Ran out of memory on HBM, the total memory required for HLO "
        "temporaries (17.24G) exceeds available HBM (15.75G)."
    )
    parsed = parse_out_of_memory(message)
    assert parsed["message"].startswith("RESOURCE_EXHAUSTED: Ran out of memory")
    assert parsed["required_bytes"] == round(17.24 * 2**30)
    assert parsed["available_bytes"] == round(15.75 * 2**30)
    assert parse_out_of_memory("INVALID_ARGUMENT: something else") is None


def test_the_batch_search_doubles_then_bisects_to_the_largest_that_fits():
    for largest in (1, 2, 9, 37, 64):
        chosen, tried = search_batch(lambda b, n=largest: b <= n, 1, 4096)
        assert chosen == largest
        batches = [t["per_device_batch"] for t in tried]
        doubling = [b for b in batches if b & (b - 1) == 0][: len(bin(largest)) - 1]
        assert doubling == [2**i for i in range(len(doubling))]
        assert largest + 1 in batches  # bisection ends with the refused neighbour probed
    assert search_batch(lambda b: False, 1, 64) == (None, [{"per_device_batch": 1, "fits": False}])
    assert search_batch(lambda b: True, 1, 48)[0] == 48


@pytest.mark.parametrize(
    ("name", "devices"),
    [("v2:2x2", 8), ("v3:2x2", 8), ("v4:2x2x1", 8), ("v5e:1x1", 1), ("v5e:2x4", 8), ("v5p:2x2x1", 4), ("v6e:2x2", 4)],
)
def test_every_generation_s_host_topology_builds_without_a_tpu(name, devices):
    # v4 is described by TensorCore (2 per chip) although JAX on a v4 runs one megacore device per chip:
    # the engine does not compile for v4 (engine/devices/device-catalog.json says why).
    topology = build_topology(name)
    assert len(topology.devices) == devices
    assert topology.device_kind.startswith("TPU v")


def test_single_host_v5e_and_v6e_get_their_chip_bounds():
    assert chips_per_host_bounds("v5e", (1, 1)) == (1, 1, 1)
    assert chips_per_host_bounds("v6e", (2, 4)) == (2, 4, 1)
    assert chips_per_host_bounds("v6e", (4, 4)) is None
    assert chips_per_host_bounds("v4", (2, 2, 1)) is None


def test_parameter_shapes_are_those_of_the_loaded_model():
    config, params = load_model(TINY_NT)
    loaded = jax.tree_util.tree_map(lambda a: tuple(np.shape(a)), params)
    assert param_shapes(config) == loaded


def test_a_batch_refused_at_the_longest_bucket_compiles_no_shorter_one(auto, compiled_lengths):
    # The step does not fit whatever the shorter buckets would say: they cost compiles and change no answer.
    answer = run_preflight(request(auto["per_device_batch"] + 1, max_length=64))
    assert answer["fits"] is False
    assert compiled_lengths == [64]
    assert [b["length"] for b in answer["buckets"]] == [64]
    assert answer["buckets"][0]["xla"]["message"].startswith("RESOURCE_EXHAUSTED")


@pytest.fixture(scope="module")
def auto():
    return run_preflight(request("auto"))


def test_batch_auto_picks_the_largest_per_device_batch_that_compiles_and_fits(auto):
    chosen = auto["per_device_batch"]
    tried = {t["per_device_batch"]: t["fits"] for t in auto["batch_search"]["tried"]}
    assert auto["fits"] and tried[chosen] and tried[chosen + 1] is False
    bucket = auto["buckets"][-1]
    assert bucket["memory"]["argument_bytes"] >= 3 * 64 * 2**24 * 2  # the feed-forward weights, bf16
    assert bucket["memory"]["total_bytes"] > bucket["memory"]["argument_bytes"]


def test_a_batch_that_does_not_fit_is_refused_with_xla_s_figures(auto):
    answer = run_preflight(request(auto["per_device_batch"] + 1))
    assert answer["fits"] is False
    xla = answer["buckets"][-1]["xla"]
    assert xla["message"].startswith("RESOURCE_EXHAUSTED")
    assert xla["required_bytes"] > xla["available_bytes"] > 15 * 2**30


def test_the_suggested_fixes_compile_and_fit(auto):
    answer = run_preflight(request(2 * auto["per_device_batch"], fixes=True))
    assert answer["fits"] is False
    assert {"per_device_batch": auto["per_device_batch"]} in [f["change"] for f in answer["fixes"]]
    # Compiled again from nothing: the fix is not taken from the search's memo.
    preflight._MEASURED.clear()
    fixed = run_preflight(request(answer["fixes"][0]["change"]["per_device_batch"]))
    assert fixed["fits"] and fixed["buckets"][-1]["memory"]["total_bytes"] == answer["fixes"][0]["total_bytes"]


def test_flops_extrapolated_over_the_layer_scan_match_the_fully_unrolled_count():
    config = json.loads((TINY_NT / "config.json").read_text()) | {"num_hidden_layers": 3}
    answer = run_preflight(request(2, config))
    counted = answer["buckets"][-1]["flops"]
    assert counted["per_device"] > 2.5 * counted["rolled_per_device"]  # the rolled count is about one layer
    # The whole 3-layer program unrolled, compiled for the same device: what XLA counts with no loop.
    target = preflight.Target(
        "embed-forward",
        build_topology("v5e:1x1"),
        parse_model_config(config),
        ProgramRequest("bf16", PoolingRule(), {}),
        None,
    )
    spec = MeshSpec(1, 1, 1)
    _, compiled = target._compile(target.config, spec, 2, 32, True, "bf16")
    # Within 1%: the rolled count carries the loop's own bookkeeping (0.3% of this tiny model's FLOPs).
    assert counted["per_device"] == pytest.approx(compiled_flops(compiled), rel=1e-2)


def test_the_cli_answers_json_lines_checked_against_the_schema(auto):
    lines = [json.dumps(request(auto["per_device_batch"] + 1)), json.dumps({"program": "embed-forward"})]
    run = subprocess.run(
        [sys.executable, "-m", "strand_jax", "preflight"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    refused, bad = (json.loads(line) for line in run.stdout.splitlines())
    assert refused["kind"] == "preflight-answer" and refused["fits"] is False
    assert bad == answer_one(lines[1]) and bad["reason"] == "bad-request" and "PreflightRequest" in bad["message"]


def test_the_command_compiles_whatever_compilation_cache_its_environment_names(tmp_path):
    # A compile-only topology client cannot load a cache entry (JAX warns at every compile), and an answer read
    # from one would not be a compile: the command turns the cache a user's environment names off.
    tiny = {**request(8, json.loads((TINY_NT / "config.json").read_text())), "longest_only": True}
    cache = tmp_path / "xla-cache"
    run = subprocess.run(
        [sys.executable, "-m", "strand_jax", "preflight"],
        input=json.dumps(tiny) + "\n" + json.dumps(tiny) + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"},
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert [json.loads(line)["fits"] for line in run.stdout.splitlines()] == [True, True]
    assert not cache.exists() or not any(cache.iterdir())
    assert "compilation cache" not in run.stderr
