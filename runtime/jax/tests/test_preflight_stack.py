"""The pre-flight compiles on a thread with a large stack: a native recursion as deep as libtpu's emitters go
on NT-2.5B at per-device 512 kills a main thread with the default 8 MiB stack (SIGSEGV), and completes there.
The recursion here is CPython's own (repr of a deeply nested list), standing in for the compiler's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
DEEP = """
import sys
sys.setrecursionlimit(10**8)
from strand_jax.preflight_cli import on_large_stack

def deep():
    nested = []
    for _ in range(60_000):
        nested = [nested]
    return len(repr(nested))

print(deep() if sys.argv[1] == "main" else on_large_stack(deep))
"""


def run(where: str) -> subprocess.CompletedProcess:
    # The stack limit of the main thread is the default a user's shell gives (8 MiB), whatever this one has;
    # no core file for the crash.
    return subprocess.run(
        ["bash", "-c", 'ulimit -s 8192 -c 0 && exec "$0" -c "$1" "$2"', sys.executable, DEEP, where],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        check=False,
    )


def test_a_recursion_that_overflows_the_default_stack_completes_on_the_compile_thread():
    assert run("main").returncode == -signal.SIGSEGV
    done = run("thread")
    assert (done.returncode, done.stdout.strip()) == (0, "120002")


def test_the_compile_thread_hands_back_the_error_of_its_work():
    from strand_jax.preflight_cli import on_large_stack

    def fail() -> None:
        raise ValueError("bad request")

    try:
        on_large_stack(fail)
    except ValueError as error:
        assert str(error) == "bad request"
    else:
        raise AssertionError("the error was lost")
