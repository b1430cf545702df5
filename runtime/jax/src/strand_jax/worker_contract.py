"""Owns the worker contract's data on the Python side: the job spec, shard markers and worker reports,
validated against `worker_contract.schema.json` (the one definition engine/cloud/worker-contract.ts is
tested against too; a JobSpec's `job` is jax_job.schema.json's JaxJob, checked through the same registry),
plus the bucket layout (shard claims and markers; a training job's checkpoint and outputs markers), mirroring the
TypeScript functions.
"""

from __future__ import annotations

from typing import Any

from .schemas import check_against

WORKER_ENV = {"job": "STRAND_JOB", "index": "STRAND_WORKER_INDEX", "coordinator": "STRAND_COORDINATOR"}
KINDS = (
    "JobSpec",
    "ShardClaim",
    "ShardMarker",
    "HostProgress",
    "WorkerReport",
    "ArtifactManifest",
    "CheckpointMarker",
    "OutputsMarker",
)


class ContractError(ValueError):
    """A document does not follow the worker contract."""


SCHEMA = "worker_contract.schema.json"


def validate(kind: str, value: Any) -> Any:
    """Returns the value if it is a valid worker-contract `kind`; else raises ContractError."""
    if kind not in KINDS:
        raise ValueError(f"unknown contract type {kind}")
    return check_against(SCHEMA, kind, value, ContractError)


# Lower case: mirrors the TypeScript `layout` object.
class layout:
    @staticmethod
    def object(digest: str) -> str:
        return f"objects/{digest}"

    @staticmethod
    def attempt(key: str, attempt: int) -> str:
        return f"jobs/{key}/attempts/{attempt:04d}.json"

    @staticmethod
    def claim(key: str, index: int) -> str:
        return f"jobs/{key}/claims/{index:06d}.json"

    @staticmethod
    def progress(key: str, attempt: int, worker: int) -> str:
        return f"jobs/{key}/progress/{attempt:04d}-{worker}.json"

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
