"""Owns the worker contract's data on the Python side: the job spec, shard markers and worker reports,
validated against `worker_contract.schema.json` (the one definition engine/cloud/worker-contract.ts is
tested against too), plus the bucket layout and the shard split, mirroring the TypeScript functions.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema

WORKER_ENV = {"job": "STRAND_JOB", "index": "STRAND_WORKER_INDEX"}
KINDS = ("JobSpec", "ShardMarker", "WorkerReport", "ArtifactManifest")


class ContractError(ValueError):
    """A document does not follow the worker contract."""


@cache
def contract_schema() -> dict:
    return json.loads(files("strand_jax").joinpath("worker_contract.schema.json").read_text())


@cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    schema = contract_schema()
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]})


def validate(kind: str, value: Any) -> Any:
    """Returns the value if it is a valid `kind`; else raises ContractError naming the first problem's path."""
    if kind not in KINDS:
        raise ValueError(f"unknown contract type {kind}")
    error = next(iter(sorted(_validator(kind).iter_errors(value), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise ContractError(f"{kind} at {where}: {error.message}")
    return value


def shards_of(shards: list[int], index: int, workers: int) -> list[int]:
    """The shards worker `index` of `workers` takes: every workers-th one, starting at its index."""
    return [s for position, s in enumerate(shards) if position % workers == index]


# Lower case: mirrors the TypeScript `layout` object.
class layout:
    @staticmethod
    def object(digest: str) -> str:
        return f"objects/{digest}"

    @staticmethod
    def attempt(key: str, attempt: int) -> str:
        return f"jobs/{key}/attempts/{attempt:04d}.json"

    @staticmethod
    def marker(key: str, port: str, index: int) -> str:
        return f"jobs/{key}/markers/{port}/{index:06d}.json"

    @staticmethod
    def report(key: str, attempt: int, worker: int) -> str:
        return f"jobs/{key}/workers/{attempt:04d}-{worker}.json"
