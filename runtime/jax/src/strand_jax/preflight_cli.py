"""Owns `python -m strand_jax preflight`: one PreflightRequest per stdin line, one PreflightAnswer or
PreflightFailure per stdout line (preflight.schema.json, checked both ways here and by the engine).

The host's own JAX backend is pinned to CPU (it only traces): with libtpu installed and no TPU, letting
JAX look for one costs tens of seconds. Compilation targets the topology's devices, not the host's.

A persistent XLA compilation cache the environment names (JAX_COMPILATION_CACHE_DIR) is turned off here: a
compile-only topology client cannot load an entry (JAX warns on every compile), and an answer read from one
would not be a compile.

The command first re-executes itself with an unlimited stack (compiler_stack.py: libtpu's emitters overflow
the stack a user's shell gives on large programs, on threads of its own).
"""

from __future__ import annotations

import json
import os
from typing import TextIO

from .schemas import check_against

SCHEMA = "preflight.schema.json"


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


def answer_requests(lines: TextIO, out: TextIO) -> int:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ["JAX_ENABLE_COMPILATION_CACHE"] = "false"
    for line in lines:
        if line.strip():
            answer = answer_one(line)
            out.write(json.dumps(answer, sort_keys=True) + "\n")
            out.flush()
    return 0
