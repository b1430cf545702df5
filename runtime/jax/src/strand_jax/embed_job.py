"""Owns computing an embed job (embed/nt) on this process's devices, the one path both executors take: a
local run (local_run.py) and each host of a TPU slice (worker.py). Open the embedder from the job, the model
folder and the optional peft adapters folder on this host's part of the mesh, then embed one token shard's
rows and merge the windows of a long sequence (rows sharing an id) into one vector.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .checkpoint import load_model
from .embedder import Embedder
from .job import EmbedJob, host_mesh
from .merge_windows import merge_windows
from .pooling import PoolingRule


class EmbedJobError(ValueError):
    """The job does not fit the model or the tokens it was given."""


def pooling_rule(job: EmbedJob) -> PoolingRule:
    return PoolingRule(job.pooling, job.include_cls, job.prefix, job.normalize)


def open_embedder(job: EmbedJob, model: Path, adapters: Path | None, devices: list | None = None) -> Embedder:
    """The embedder of `job` on `devices` (default: all of JAX's), which hold this host's part of the mesh."""
    if job.adapters != (adapters is not None):
        raise EmbedJobError(
            "the job has adapters but no peft folder was given"
            if job.adapters
            else "a peft folder was given but the job has no adapters"
        )
    config, params = load_model(model)
    if job.pad_id != config.pad_token_id:
        raise EmbedJobError(f"tokens are padded with {job.pad_id}, the model's pad_token_id is {config.pad_token_id}")
    lora = None
    if adapters is not None:
        from .export_peft import read_peft_adapters

        lora = read_peft_adapters(adapters, config)
    placement = job.placement
    return Embedder(
        config,
        params,
        host_mesh(placement),
        placement.per_device_batch,
        placement.precision,
        pooling_rule(job),
        job.max_length,
        devices,
        adapters=lora,
    )


def embed_shard(
    embedder: Embedder, ids: list[str], rows: list[np.ndarray], on_batch: Callable[[int, int], None] | None = None
) -> tuple[list[str], np.ndarray]:
    """One token shard's vectors: a pooled vector per row, the windows of one sequence averaged (and
    normalised again when the rule normalises), as steps/embed/pooling.ts merges them. `on_batch(rows,
    tokens)` after each batch (a remote host's live progress)."""
    return merge_windows(ids, embedder.embed(rows, on_batch), embedder.rule.normalize)
