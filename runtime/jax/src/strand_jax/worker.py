"""Owns what one host of a TPU slice does (`python -m strand_jax worker`, started by the node's startup
script): the same contract as `engine/cloud/run-worker.ts`. Read the attempt's JobSpec from `STRAND_JOB`
(waiting until the engine has written it), validate it against the one schema and parse its `job`
(jax_job.schema.json), then by the job's kind:

  embed   go through the job's shards in order, skip those that have a marker, and claim each other one
          (its claim object created only if absent: the host whose create succeeds computes it, so shards go
          to hosts as they free up, over every host of every node of the step); for a claimed shard: stage
          the model once (and the adapters, when the job has them), download its token shard (SHA-256
          checked), embed it on this host's devices (embed_job.py, as a local run does), write the vector
          shard to `objects/SHA256` and only then its marker, both only if absent;
  train   hand the job to training_worker.py.

While it embeds, the host rewrites its progress object (host_progress.py: rows, tokens, seconds; at most every
`progressSeconds` of the job spec), and writes it a last time when it has nothing left to claim. Last, the host's report; an embed report's meta is `{port: {"dim": hidden size}}` (the engine writes the rest
of the artifact's meta itself, as it does for a local run). Files are brought here by staging.py.

Multi-host and many nodes: an embed job runs on every host alone, the shards it claimed on its own devices,
with the job's mesh divided over the hosts along `data` (docs/tpu.md "Multi-host slices: one program per
host"): no cross-host collective, a shard's vectors do not depend on which host (or node) made them. A train
job is one SPMD program over every host's devices: each host joins it (distributed.py) before JAX looks for
devices, and the job's mesh is placed on all of them (docs/tpu.md "Multi-host training: one program over the
slice").
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .distributed import SliceError, join_slice
from .gcs import Bucket, GcsClient, GcsError, emulator_host
from .host_progress import HostProgress
from .job import STAND_IN_ENV, EmbedJob, JaxJob, JaxJobError, PlatformError, TrainJob, parse_job, require_platform
from .mesh_spec import MeshError
from .staging import StagingError, read_verified, stage_adapters, stage_model
from .training_worker import TrainingJobError, run_training
from .worker_contract import WORKER_ENV, ContractError, layout, validate


class JobError(RuntimeError):
    """The job cannot run here; the message goes into the host's report."""


def wait_for_job(bucket: Bucket, name: str, pause: Callable[[], None], limit: int) -> dict[str, Any]:
    """The engine writes the job spec once the node is READY, which is when hosts start: poll for it."""
    for _ in range(limit):
        spec = bucket.get_json(name)
        if spec is not None:
            return spec
        pause()
    raise JobError(f"no job spec at {bucket.uri}/{name} after {limit} looks")


def job_of(spec: dict[str, Any]) -> JaxJob:
    """The JobSpec's JAX job, checked for this slice: placed on as many hosts as the slice has."""
    if "job" not in spec:
        raise JobError(
            f"{spec['step']['uses']} has no JAX job in its job spec; it runs on `strand worker`, not this worker"
        )
    job = parse_job(spec["job"])
    if job.placement.hosts != spec["workers"]:
        raise JobError(
            f"the job is placed on {job.placement.hosts} hosts and this slice has {spec['workers']}; "
            "run the Strand version that staged it"
        )
    return job


def failure_message(error: Exception) -> str:
    """A report's message: the error, and its fix in parentheses where it has one (TrainingDiverged's `hint`),
    as the engine's own workers write theirs."""
    hint = getattr(error, "hint", None)
    return str(error) if hint is None else f"{error} ({hint})"


def run_worker(
    env: dict[str, str],
    client: GcsClient,
    workdir: Path,
    pause: Callable[[], None],
    log: Callable[[str], None],
    wait_limit: int = 900,
    devices: list | None = None,
) -> dict[str, Any]:
    """Runs this host's part of the job; returns the report it wrote. Raises only when no report can be
    written. `devices` stands for this host's devices (default: JAX's local devices, on the job's platform)."""
    job_uri = env.get(WORKER_ENV["job"], "")
    index = int(env.get(WORKER_ENV["index"], "-1"))
    bucket_name, job_name = job_uri[5:].partition("/")[::2] if job_uri.startswith("gs://") else ("", "")
    if not bucket_name or index < 0:
        raise JobError(f"{WORKER_ENV['job']} must be a gs:// URI and {WORKER_ENV['index']} a host index")
    spec = wait_for_job(Bucket(client, bucket_name, ""), job_name, pause, wait_limit)
    try:
        validate("JobSpec", spec)
    except ContractError as error:
        raise JobError(str(error)) from None
    bucket = Bucket.at(client, spec["root"])
    produced = 0

    def report(status: str, meta: dict[str, Any], message: str | None = None) -> dict[str, Any]:
        value: dict[str, Any] = {
            "attempt": spec["attempt"],
            "worker": index,
            "status": status,
            "meta": meta,
            "produced": produced,
        }
        if message is not None:
            value["message"] = message
        bucket.put_json_if_absent(layout.report(spec["key"], spec["attempt"], index), validate("WorkerReport", value))
        return value

    try:
        job = job_of(spec)
        if devices is None:
            import jax

            training = isinstance(job, TrainJob)
            if training:
                join_slice(env, spec["workers"], index, env.get(STAND_IN_ENV) or job.placement.platform)
            require_platform(job.placement, jax.devices()[0].platform, env.get(STAND_IN_ENV))
            # A train job's mesh spans the slice; an embed job's is this host's devices only (see the module doc).
            devices = jax.devices() if training else jax.local_devices()
        if isinstance(job, TrainJob):
            if "training" not in spec:
                raise JobError("a train job runs as a training job; the job spec has no training part")
            model = stage_model(bucket, spec, job.base_model, workdir)
            produced = run_training(bucket, spec, job, index, workdir, model, log, devices)
            return report("ok", {})
        (port,) = spec["outputs"]
        done = set(bucket.list(f"jobs/{spec['key']}/markers/"))
        embedder = None
        progress = HostProgress(bucket, spec, index, log)
        for shard in spec["shards"]:
            if layout.marker(spec["key"], port, shard) in done or not claim(bucket, spec, shard, index):
                continue
            if embedder is None:
                embedder = open_embedder(bucket, spec, job, workdir, devices)
                shards = {s["index"]: s for s in spec["inputs"]["tokens"]["shards"]}
            progress.start_shard(shard)
            produced += embed_one(bucket, spec, port, shards[shard], embedder, workdir, index, progress.batch)
            progress.end_shard()
            log(f"worker {index}: shard {shard} done (attempt {spec['attempt']})")
        progress.write(running=False)
        if embedder is None:
            # Nothing left for this host (resumed, or other hosts claimed it all): the output's facts still
            # come from its report.
            from .config import read_model_config

            config = read_model_config(stage_model(bucket, spec, job.model, workdir, weights=False))
            return report("ok", {port: {"dim": config.hidden_size}})
        return report("ok", {port: {"dim": embedder.config.hidden_size}})
    except (
        JobError,
        JaxJobError,
        PlatformError,
        StagingError,
        TrainingJobError,
        SliceError,
        MeshError,
        GcsError,
        ValueError,
        OSError,
    ) as error:
        return report("failed", {}, failure_message(error))
    except Exception as error:
        # Anything else (an XLA runtime error, a bug) is reported too: a silent host only stalls the engine.
        return report("failed", {}, f"{type(error).__name__}: {error}")


def claim(bucket: Bucket, spec: dict[str, Any], shard: int, index: int) -> bool:
    """Whether this host now holds `shard`: its claim object is created only if absent (ifGenerationMatch=0)."""
    value = {"index": shard, "attempt": spec["attempt"], "worker": index}
    return bucket.put_json_if_absent(layout.claim(spec["key"], shard), validate("ShardClaim", value)) == "written"


def open_embedder(bucket: Bucket, spec: dict[str, Any], job: EmbedJob, workdir: Path, devices: list):
    """The job's embedder on this host's devices: the model staged, and the adapters when the job has them
    (the JobSpec's `adapters` input, finetune/nt-lora's artifact)."""
    from . import embed_job

    model = stage_model(bucket, spec, job.model, workdir)
    adapters = None
    if job.adapters:
        if "adapters" not in spec["inputs"]:
            raise JobError("the job has adapters, and the job spec has no adapters input")
        adapters = stage_adapters(bucket, spec["inputs"]["adapters"], workdir)
    return embed_job.open_embedder(job, model, adapters, devices)


def embed_one(bucket, spec, port, manifest_shard, embedder, workdir, index, on_batch) -> int:
    """One token shard: its vectors as an object, then its marker; 1 if this host's marker is the one.
    `on_batch(rows, tokens)` after each batch (the host's live progress)."""
    from .arrow_shards import read_token_shard, write_vector_shard
    from .embed_job import embed_shard

    shard = manifest_shard["index"]
    tokens = read_verified(bucket, manifest_shard["digest"], workdir / f"tokens-{shard:06d}.arrow")
    merged_ids, merged = embed_shard(embedder, *read_token_shard(tokens), on_batch)
    out = workdir / f"vectors-{shard:06d}.arrow"
    write_vector_shard(out, merged_ids, merged)
    data = out.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    # The object is durable before its marker exists; 'exists' for either means another host finished first.
    bucket.put_if_absent(layout.object(digest), data)
    marker = {
        "port": port,
        "index": shard,
        "object": digest,
        "rows": len(merged_ids),
        "attempt": spec["attempt"],
        "worker": index,
    }
    written = bucket.put_json_if_absent(layout.marker(spec["key"], port, shard), validate("ShardMarker", marker))
    tokens.unlink(missing_ok=True)
    out.unlink(missing_ok=True)
    return 1 if written == "written" else 0


def main(env: dict[str, str]) -> int:
    """`python -m strand_jax worker`: exit 0 when the report says ok, 1 otherwise (message on stderr)."""

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    client = GcsClient.from_env(env)
    # As `strand worker` does: look for the job spec often against a local server, every 2 s on Google Cloud.
    pause = 0.1 if emulator_host(env) else 2.0
    with tempfile.TemporaryDirectory(prefix="strand-worker-") as scratch:
        try:
            report = run_worker(env, client, Path(scratch), lambda: time.sleep(pause), log, int(1800 / pause))
        except (JobError, GcsError) as error:
            # Before a report could be written (no job spec, storage unreachable): the engine sees no report.
            log(f"error: {error}")
            return 1
    if report["status"] == "ok":
        log(f"worker {report['worker']}: {report['produced']} shards done (attempt {report['attempt']})")
        return 0
    log(f"error: worker {report['worker']}: {report['message']}")
    return 1
