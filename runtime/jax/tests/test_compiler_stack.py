"""The pre-flight compiles with an unlimited stack (compiler_stack.py), whatever the user's shell gives: libtpu
overflows an 8 MiB stack (SIGSEGV, STACK OVERFLOW) compiling the two-layer tiny NT at per-device 960 and 1,000
tokens for a v5e chip (where XLA rematerialises to fit), on threads of its own. And the FLOPs of the largest
batch that fits are counted even where the two-layer unrolled program they are counted with does not fit (on
a v3-8 at per-device 965: a compile-error for `batch: auto` before)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from helpers import TINY_NT

from strand_jax.compiler_stack import REEXECUTED

CONFIG = json.loads((TINY_NT / "config.json").read_text())


def request(topology: str, data: int, batch: int) -> dict:
    return {
        "program": "embed-forward",
        "topology": topology,
        "mesh": {"data": data, "fsdp": 1, "tp": 1},
        "batch": batch,
        "max_length": 1000,
        "precision": "bf16",
        "model": {"config": CONFIG},
        "fixes": False,
        "longest_only": True,
    }


def preflight(requests: list[dict], **env: str) -> subprocess.CompletedProcess:
    # The soft stack limit of a user's shell (8 MiB; the hard one stays unlimited), whatever this process has;
    # no core file for a crash.
    return subprocess.run(
        ["bash", "-c", 'ulimit -S -s 8192 && ulimit -c 0 && exec "$0" -m strand_jax preflight', sys.executable],
        input="".join(json.dumps(r) + "\n" for r in requests),
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


@pytest.fixture(scope="module")
def answers():
    run = preflight([request("v5e:1x1", 1, 960), request("v3:2x2", 8, 965), request("v3:2x2", 8, 1)])
    assert run.returncode == 0, run.stderr[-2000:]
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_a_compile_that_overflows_the_shell_s_stack_is_answered(answers):
    answer = answers[0]
    assert answer["kind"] == "preflight-answer" and answer["fits"] is True
    # Without the re-execution, the same request kills the compiler.
    crashed = preflight([request("v5e:1x1", 1, 960)], **{REEXECUTED: "1"})
    assert crashed.returncode == -signal.SIGSEGV and crashed.stdout == ""


def test_flops_at_the_edge_of_memory_are_counted_at_batch_1_and_scaled(answers):
    edge, one = answers[1], answers[2]
    assert edge["kind"] == "preflight-answer" and edge["fits"] is True, edge
    counted, single = edge["buckets"][-1]["flops"], one["buckets"][-1]["flops"]
    assert counted["per_sequence"] == pytest.approx(single["per_sequence"], rel=1e-6)
    assert counted["per_device"] == pytest.approx(single["per_sequence"] * 965, rel=1e-6)
