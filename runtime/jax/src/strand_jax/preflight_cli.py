"""Owns `python -m strand_jax preflight`: one PreflightRequest per stdin line, one PreflightAnswer or
PreflightFailure per stdout line (preflight.schema.json, checked both ways here and by the engine).

The host's own JAX backend is pinned to CPU (it only traces): with libtpu installed and no TPU, letting
JAX look for one costs tens of seconds. Compilation targets the topology's devices, not the host's.

Compilation runs on a thread with a large stack (COMPILER_STACK_BYTES): libtpu's emitters recurse deeply on
large programs (NT-2.5B at per-device 512 overflowed the main thread's default 8 MiB and died with SIGSEGV,
where with an unlimited stack XLA answered). A thread's stack size is set by the process itself, so this holds
for every user, whatever their shell's `ulimit -s`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from functools import partial
from typing import TextIO, TypeVar

from .schemas import check_against

SCHEMA = "preflight.schema.json"
# Address space reserved for the compile thread's stack, not memory used: pages are touched only as deep as it goes.
COMPILER_STACK_BYTES = 1 << 30
T = TypeVar("T")


class PreflightRequestError(ValueError):
    """A request line is not a PreflightRequest."""


def failure(reason: str, message: str) -> dict:
    return {"kind": "preflight-failure", "reason": reason, "message": message}


def answer_one(line: str) -> dict:
    from .tpu_topology import libtpu_installed

    try:
        request = check_against(SCHEMA, "PreflightRequest", json.loads(line), PreflightRequestError)
    except (json.JSONDecodeError, PreflightRequestError) as error:
        return failure("bad-request", str(error))
    if not libtpu_installed():
        return failure("no-libtpu", "libtpu is not installed in this Python (runtime/jax: uv sync --group preflight)")
    # jax is imported only now: a Python without libtpu answers at once.
    from .config import ModelConfigError
    from .preflight import PreflightError, run_preflight
    from .tpu_topology import TopologyError, TopologyLibraryError

    try:
        answer = run_preflight(request)
    except TopologyLibraryError as error:
        return failure("libtpu-error", str(error))
    except (PreflightError, ModelConfigError, TopologyError, ValueError) as error:
        return failure("bad-request", str(error))
    except RuntimeError as error:  # XLA's compile errors other than running out of memory
        return failure("compile-error", str(error).strip().splitlines()[0])
    return check_against(SCHEMA, "PreflightAnswer", answer, RuntimeError)


def on_large_stack(work: Callable[[], T], stack_bytes: int = COMPILER_STACK_BYTES) -> T:
    """Runs `work` on a new thread whose stack is `stack_bytes`, and returns its result (or raises its error)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as error:  # handed back to the caller's thread
            errors.append(error)

    previous = threading.stack_size(stack_bytes)
    try:
        thread = threading.Thread(target=run, name="strand-preflight-compile")
        thread.start()
    finally:
        threading.stack_size(previous)
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def answer_requests(lines: TextIO, out: TextIO) -> int:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    for line in lines:
        if line.strip():
            answer = on_large_stack(partial(answer_one, line))
            out.write(json.dumps(answer, sort_keys=True) + "\n")
            out.flush()
    return 0
