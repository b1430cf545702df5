"""The pre-flight compiling finetune/nt-lora's real train step (train_step.build_train_program, from shapes
alone) for a TPU topology with libtpu and no TPU: its memory against the embedding forward's at the same
batch, and its FLOPs counted through the layer scan, its backward and the gradient-accumulation loop."""

import copy
import json

import pytest
from helpers import NT_LORA_DEFAULT_OPTIONS, TINY_NT
from test_preflight import request

from strand_jax.preflight import run_preflight
from strand_jax.preflight_cli import answer_one

# Four layers, so a count that missed the backward of all but one layer would show (see the FLOPs test).
CONFIG = json.loads((TINY_NT / "config.json").read_text()) | {"num_hidden_layers": 4}


def train_request(grad_accum=1):
    options = copy.deepcopy(NT_LORA_DEFAULT_OPTIONS)
    options["train"]["grad_accum"] = grad_accum
    return request(4, CONFIG, program="train-step", options=options)


@pytest.fixture(scope="module")
def answers():
    # Through the CLI's answer_one: request and answer both checked against preflight.schema.json.
    return run_preflight(request(4, CONFIG)), answer_one(json.dumps(train_request()))


def test_options_outside_the_schema_are_a_bad_request():
    bad = train_request()
    bad["options"]["lora"]["rank"] = 0
    failure = answer_one(json.dumps(bad))
    assert failure["kind"] == "preflight-failure" and failure["reason"] == "bad-request"


def test_the_train_step_compiles_and_needs_more_memory_than_the_forward(answers):
    forward, train = answers
    assert train["program"] == "train-step" and train["fits"] and train["per_device_batch"] == 4
    f, t = forward["buckets"][-1]["memory"], train["buckets"][-1]["memory"]
    # The same base weights are arguments of both; the train step adds adapters, head and AdamW moments.
    assert t["argument_bytes"] > f["argument_bytes"]
    assert t["total_bytes"] > f["total_bytes"]
    # The state is donated: its output aliases its argument.
    assert t["alias_bytes"] > 0


def test_train_step_flops_count_every_layer_s_forward_recompute_and_backward(answers):
    forward, train = answers
    f, t = forward["buckets"][-1]["flops"], train["buckets"][-1]["flops"]
    # Forward + the remat recompute + the backward through the activations: about 3x the forward. Counting
    # the scan once (or extrapolating only the forward) would give about 1x-2.25x at four layers.
    assert t["per_sequence"] > 2.5 * f["per_sequence"]
    assert t["per_device"] > 2.5 * t["rolled_per_device"]


def test_gradient_accumulation_multiplies_the_step_s_flops_not_those_per_sequence(answers):
    _, once = answers
    twice = run_preflight(train_request(grad_accum=2))
    a, b = once["buckets"][-1]["flops"], twice["buckets"][-1]["flops"]
    assert b["per_device"] == pytest.approx(2 * a["per_device"], rel=0.02)
    assert b["per_sequence"] == pytest.approx(a["per_sequence"], rel=0.02)


def test_the_train_step_compiles_as_one_program_over_a_two_host_slice():
    # finetune/nt-lora on a multi-host slice is one jax.distributed program: the plan compiles it for the whole
    # slice's topology (a v5p-16: 8 chips over 2 hosts, as libtpu describes it) with the whole mesh.
    answer = answer_one(
        json.dumps(
            request(
                2,
                CONFIG,
                program="train-step",
                options=NT_LORA_DEFAULT_OPTIONS,
                topology="v5p:2x2x2",
                mesh={"data": 4, "fsdp": 2, "tp": 1},
            )
        )
    )
    assert answer["kind"] == "preflight-answer" and answer["devices"] == 8 and answer["fits"], answer
    assert answer["buckets"][-1]["memory"]["total_bytes"] > 0
