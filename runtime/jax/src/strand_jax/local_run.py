"""Owns `python -m strand_jax run RUN.json`: a LocalRun (jax_job.schema.json: the job and this machine's
paths), the one entry point of the local executor. The placement decides how JAX starts (before it is
imported), a job placed on an accelerator JAX does not see stops before anything is loaded, then:

  embed   one vector shard per token shard (OUT/<name of the token shard>), a
          `{"kind": "shard-done", "index", "file", "sequences"}` line as each is durable (the engine records it
          before the next starts: a killed run resumes after it), and an `embed-summary` line last;
  train   the LoRA trainer's `train-progress`, `eval` and `checkpoint` lines, and `train-summary` last;
  cluster PCA then HDBSCAN on the CPU, without JAX (cluster_job.py): `cluster-progress` lines, one result
          shard per input shard, and `cluster-summary` last.

Each line is JSON with sorted keys, on stdout. A TPU host runs the same jobs through worker.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .job import (
    ClusterJob,
    ClusterPaths,
    EmbedJob,
    EmbedPaths,
    LocalRun,
    TrainJob,
    TrainPaths,
    configure_platform,
    host_mesh,
    parse_local_run,
    require_platform,
    visible_platform,
)

Emit = Callable[[dict[str, Any]], None]


def read_local_run(path: str | Path) -> LocalRun:
    """RUN.json, parsed and checked against the schema (JaxJobError, or OSError/ValueError for the file)."""
    return parse_local_run(json.loads(Path(path).read_text()))


def run_local(run: LocalRun, emit: Emit) -> dict[str, Any]:
    """Runs a parsed LocalRun; returns its summary (the caller emits it last). JAX must not be imported yet
    when the placement is cpu with host devices (configure_platform)."""
    if isinstance(run.job, ClusterJob):
        from .cluster_job import run_cluster

        if not isinstance(run.paths, ClusterPaths):
            raise AssertionError(f"bug: a cluster job with {type(run.paths).__name__}")
        return run_cluster(run.job, run.paths, emit)
    configure_platform(run.job.placement)
    require_platform(run.job.placement, visible_platform())
    if isinstance(run.job, EmbedJob) and isinstance(run.paths, EmbedPaths):
        return run_embed(run.job, run.paths, emit)
    if isinstance(run.job, TrainJob) and isinstance(run.paths, TrainPaths):
        from .lora_trainer import Trainer

        return Trainer(run.job, run.paths, emit).run()
    raise AssertionError(f"bug: a {run.job.kind} job with {type(run.paths).__name__}")


def run_embed(job: EmbedJob, paths: EmbedPaths, emit: Emit) -> dict[str, Any]:
    import jax

    from .arrow_shards import read_token_shard, write_vector_shard
    from .embed_job import embed_shard, open_embedder

    started = time.perf_counter()
    embedder = open_embedder(job, paths.model, paths.adapters)
    paths.out.mkdir(parents=True, exist_ok=True)
    sequences = rows_total = tokens = 0
    for index, shard in enumerate(paths.tokens):
        ids, rows = read_token_shard(shard)
        merged_ids, merged = embed_shard(embedder, ids, rows)
        out = paths.out / shard.name
        write_vector_shard(out, merged_ids, merged)
        emit({"kind": "shard-done", "index": index, "file": str(out), "sequences": len(merged_ids)})
        sequences += len(merged_ids)
        rows_total += len(rows)
        tokens += int(sum(len(r) for r in rows))
    mesh = host_mesh(job.placement)
    devices = jax.devices()
    return {
        "kind": "embed-summary",
        "sequences": sequences,
        "rows": rows_total,
        "tokens": tokens,
        "dim": embedder.config.hidden_size,
        "family": embedder.config.family,
        "precision": job.placement.precision,
        "mesh": {"data": mesh.data, "fsdp": mesh.fsdp, "tp": mesh.tp},
        "platform": devices[0].platform,
        "devices": len(devices),
        "global_batch": embedder.batch_size,
        "buckets": list(embedder.buckets),
        "compilations": embedder.stats.programs,
        "compile_seconds": round(embedder.stats.seconds, 3),
        "compiled": [
            {"bucket": width, "seconds": round(seconds, 3)}
            for (_, width), seconds in zip(embedder.stats.shapes, embedder.stats.times, strict=True)
        ],
        "seconds": round(time.perf_counter() - started, 3),
        "peak_bytes_per_device": peak_device_bytes(devices),
        "shards": [str(paths.out / p.name) for p in paths.tokens],
    }


def peak_device_bytes(devices: list) -> int | None:
    """The most memory any device had in use at once, as its allocator counts it (GPU, TPU); None where the
    platform keeps no such count (the CPU)."""
    peaks = [stats.get("peak_bytes_in_use") for stats in (d.memory_stats() for d in devices) if stats]
    return max((int(p) for p in peaks if p is not None), default=None)
