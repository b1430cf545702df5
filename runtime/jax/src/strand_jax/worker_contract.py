"""Owns the worker contract's data on the Python side: the job spec, shard markers and worker reports,
validated against `worker_contract.schema.json` (the one definition engine/cloud/worker-contract.ts is
tested against too), plus the bucket layout (shard markers; a training job's checkpoint and outputs markers) and the shard split, mirroring the TypeScript functions.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema

WORKER_ENV = {"job": "STRAND_JOB", "index": "STRAND_WORKER_INDEX"}
KINDS = ("JobSpec", "ShardMarker", "WorkerReport", "ArtifactManifest", "CheckpointMarker", "OutputsMarker")


class ContractError(ValueError):
    """A document does not follow the worker contract."""


SCHEMA = "worker_contract.schema.json"


def contract_schema() -> dict:
    return package_schema(SCHEMA)


@cache
def package_schema(name: str) -> dict:
    return json.loads(files("strand_jax").joinpath(name).read_text())


@cache
def _validator(schema: str, kind: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": package_schema(schema)["$defs"]})


def check_against(schema: str, kind: str, value: Any, error: type[ValueError]) -> Any:
    """Returns the value if it is a valid `kind` of `schema` (a JSON Schema in this package); else raises
    `error` naming the first problem's path."""
    if kind not in package_schema(schema)["$defs"]:
        raise ValueError(f"unknown contract type {kind}")
    found = next(iter(sorted(_validator(schema, kind).iter_errors(value), key=lambda e: list(e.absolute_path))), None)
    if found is not None:
        where = "/".join(str(p) for p in found.absolute_path) or "(root)"
        raise error(f"{kind} at {where}: {found.message}")
    return value


def validate(kind: str, value: Any) -> Any:
    """Returns the value if it is a valid worker-contract `kind`; else raises ContractError."""
    if kind not in KINDS:
        raise ValueError(f"unknown contract type {kind}")
    return check_against(SCHEMA, kind, value, ContractError)


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

    @staticmethod
    def checkpoint(key: str, step: int) -> str:
        return f"jobs/{key}/checkpoints/{step:08d}.json"

    @staticmethod
    def outputs(key: str) -> str:
        return f"jobs/{key}/outputs.json"
