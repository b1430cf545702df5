"""Owns what one host of a TPU slice does for an `embed/nt` step (`python -m strand_jax worker`, started by
the node's startup script), and where it hands a training job (`finetune/nt-lora`: training_worker.py): the
same contract as `engine/cloud/run-worker.ts`. Read the attempt's job spec
from `STRAND_JOB` (waiting until the engine has written it), validate it against the one schema, take
`shards_of(shards, STRAND_WORKER_INDEX, workers)`, fetch the model (staged by the engine, or a gs:// folder read
from its bucket at the planned generation), skip shards that already have a marker, and for each
other shard: download its token shard (SHA-256 checked), embed it on this host's devices, write the vector
shard to `objects/SHA256` and only then its marker, both only if absent. Last, the host's report.

Multi-host: every host runs its own shards on its own devices, with the step's mesh divided over the hosts
along `data` (docs/tpu.md "Multi-host slices: one program per host"). No `jax.distributed`, no cross-host
collective: a shard's vectors do not depend on which host made them.
"""

from __future__ import annotations

import hashlib
import posixpath
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .gcs import Bucket, GcsClient, GcsError, emulator_host
from .pooling import PoolingRule
from .sharding import MeshError, MeshSpec
from .training_worker import TrainingJobError, run_training
from .worker_contract import WORKER_ENV, ContractError, layout, shards_of, validate

# The steps this worker runs; the others (tokenize/*, embed/onnx, embed/kmer-profile) run on `strand worker`.
WORKER_STEPS = ("embed/nt", "finetune/nt-lora")
TRAINING_STEPS = ("finetune/nt-lora",)
# `with:` keys of embed/nt this worker knows. Anything else is refused, not ignored: it could change the numbers.
KNOWN_PARAMS = frozenset({"model", "pooling", "include_cls", "normalize", "max_length"})
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class JobError(RuntimeError):
    """The job cannot run here; the message goes into the host's report."""


@dataclass(frozen=True)
class EmbedSettings:
    model: str
    rule: PoolingRule
    precision: str
    pad_id: int
    # The last length bucket: the tokenizer's max_tokens, the same on every host whatever shards it takes.
    max_length: int | None
    mesh: MeshSpec
    per_device_batch: int


def host_mesh(mesh: dict, workers: int) -> MeshSpec:
    """This host's part of the step's mesh: `data` divided over the hosts; fsdp and tp stay within a host."""
    spec = MeshSpec(int(mesh["data"]), int(mesh["fsdp"]), int(mesh["tp"]))
    if spec.data % workers != 0:
        raise MeshError(
            f"mesh data={spec.data} does not divide over the slice's {workers} hosts; each host runs data/{workers} "
            "of it (fsdp and tp stay within a host)"
        )
    return MeshSpec(spec.data // workers, spec.fsdp, spec.tp)


def embed_settings(job: dict) -> EmbedSettings:
    """What embed/nt's params, its tokens' meta and the placement say, checked before anything is loaded."""
    params = job["step"]["params"]
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        raise JobError(
            f"this worker does not know embed/nt param {unknown[0]!r}; run the Strand version that staged it"
        )
    if "model" not in params:
        raise JobError("embed/nt needs with: model (a Hugging Face folder)")
    tokens = job["inputs"].get("tokens")
    if tokens is None:
        raise JobError("embed/nt needs a tokens input")
    meta = tokens["meta"]
    precision = job["placement"]["precision"]
    if precision not in ("fp32", "bf16"):
        raise JobError(f'precision "{precision}" is not fp32 or bf16')
    rule = PoolingRule(
        params.get("pooling", "mean"),
        params.get("include_cls", True),
        int(meta.get("prefix", 1)),
        params.get("normalize", False),
    )
    max_length = params.get("max_length", meta.get("max_tokens"))
    return EmbedSettings(
        model=str(params["model"]),
        rule=rule,
        precision=precision,
        pad_id=int(meta.get("pad_id", 1)),
        max_length=None if max_length is None else int(max_length),
        mesh=host_mesh(job["placement"]["mesh"], int(job["workers"])),
        per_device_batch=int(job["placement"]["perDeviceBatch"]),
    )


def wait_for_job(bucket: Bucket, name: str, pause: Callable[[], None], limit: int) -> dict:
    """The engine writes the job spec once the node is READY, which is when hosts start: poll for it."""
    for _ in range(limit):
        job = bucket.get_json(name)
        if job is not None:
            return job
        pause()
    raise JobError(f"no job spec at {bucket.uri}/{name} after {limit} looks")


def read_verified(bucket: Bucket, digest: str, destination: Path) -> Path:
    if not destination.exists():
        part = destination.with_name(f"{destination.name}.part")
        try:
            got = bucket.download_file(layout.object(digest), part)
        except GcsError as error:
            raise JobError(f"staged object {digest} cannot be read from {bucket.uri}: {error}") from None
        if got != digest:
            raise JobError(f"staged object {digest} in {bucket.uri} does not match its digest")
        part.replace(destination)
    return destination


def fetch_file(bucket: Bucket, entry: dict, destination: Path) -> Path:
    """A job file on this host: a staged one from objects/ (SHA-256 checked), or a gs:// one read from its own
    bucket at exactly the generation the plan listed, checked against the md5 it listed."""
    if "object" in entry:
        return read_verified(bucket, entry["object"], destination)
    version = entry["gcs"]
    uri = f"gs://{version['bucket']}/{version['name']}"
    if not destination.exists():
        if version["md5"] is None:
            raise JobError(
                f"{uri} has no md5 (a composite object), which is what this worker checks objects by; "
                "rewrite it as one object (gcloud storage cp), or stage the model from a local folder"
            )
        part = destination.with_name(f"{destination.name}.part")
        try:
            bucket.client.download_file(
                version["bucket"], version["name"], part, generation=version["generation"], md5=version["md5"]
            )
        except GcsError as error:
            raise JobError(str(error)) from None
        part.replace(destination)
    return destination


def file_identity(entry: dict) -> str:
    """What names a job file's content: its staged digest, or the object version the plan listed."""
    if "object" in entry:
        return entry["object"]
    version = entry["gcs"]
    return f"gs://{version['bucket']}/{version['name']}#{version['generation']}"


def model_entries(job: dict, folder_param: str) -> dict[str, dict]:
    """The job's files under the model folder, by file name (config.json, the weights)."""
    root = posixpath.normpath(folder_param)
    return {
        posixpath.basename(posixpath.normpath(e["path"])): e
        for e in job["files"]
        if posixpath.dirname(posixpath.normpath(e["path"])) == root
    }


def stage_model(bucket: Bucket, job: dict, folder_param: str, workdir: Path, weights: bool = True) -> Path:
    """The model folder as the job lists it: one `files` entry per file under it (config.json, the weights),
    staged or on Cloud Storage; with weights=False only config.json (enough for the output's facts, without GBs
    of weights)."""
    folder = workdir / "model"
    folder.mkdir(parents=True, exist_ok=True)
    entries = model_entries(job, folder_param)
    if "config.json" not in entries or not any(w in entries for w in WEIGHT_FILES):
        raise JobError(
            f"the job does not stage {folder_param}/config.json and its weights ({' or '.join(WEIGHT_FILES)})"
        )
    for name, entry in entries.items():
        if weights or name == "config.json":
            fetch_file(bucket, entry, folder / name)
    return folder


def run_worker(
    env: dict[str, str],
    client: GcsClient,
    workdir: Path,
    pause: Callable[[], None],
    log: Callable[[str], None],
    wait_limit: int = 900,
    devices: list | None = None,
) -> dict:
    """Runs this host's shards; returns the report it wrote. Raises only when no report can be written."""
    job_uri = env.get(WORKER_ENV["job"], "")
    index = int(env.get(WORKER_ENV["index"], "-1"))
    bucket_name, job_name = job_uri[5:].partition("/")[::2] if job_uri.startswith("gs://") else ("", "")
    if not bucket_name or index < 0:
        raise JobError(f"{WORKER_ENV['job']} must be a gs:// URI and {WORKER_ENV['index']} a host index")
    job = wait_for_job(Bucket(client, bucket_name, ""), job_name, pause, wait_limit)
    try:
        validate("JobSpec", job)
    except ContractError as error:
        raise JobError(str(error)) from None
    bucket = Bucket.at(client, job["root"])
    produced = 0

    def report(status: str, meta: dict, message: str | None = None) -> dict:
        value = {"attempt": job["attempt"], "worker": index, "status": status, "meta": meta, "produced": produced}
        if message is not None:
            value["message"] = message
        bucket.put_json_if_absent(layout.report(job["key"], job["attempt"], index), validate("WorkerReport", value))
        return value

    try:
        if job["step"]["uses"] not in WORKER_STEPS:
            raise JobError(
                f"this Python worker runs {', '.join(WORKER_STEPS)}; {job['step']['uses']} runs on `strand worker`"
            )
        if job["step"]["uses"] in TRAINING_STEPS:
            if "training" not in job:
                raise JobError(f"{job['step']['uses']} runs as a training job; the job spec has no training part")
            model = stage_model(bucket, job, str(job["step"]["params"]["model"]), workdir)
            produced = run_training(bucket, job, index, workdir, model, read_verified, log)
            return report("ok", {})
        settings = embed_settings(job)
        (port,) = job["outputs"]
        mine = shards_of(job["shards"], index, job["workers"])
        done = set(bucket.list(f"jobs/{job['key']}/markers/"))
        todo = [s for s in mine if layout.marker(job["key"], port, s) not in done]
        log(f"worker {index}: {len(todo)} of {len(mine)} shards to do (attempt {job['attempt']})")
        embedder = None
        meta: dict = {}
        shards = {s["index"]: s for s in job["inputs"]["tokens"]["shards"]}
        for shard in todo:
            if embedder is None:
                embedder, meta = open_embedder(bucket, job, settings, workdir, devices)
            produced += embed_shard(bucket, job, port, shard, shards[shard], embedder, settings, workdir, index)
            log(f"worker {index}: shard {shard} done")
        if embedder is None:
            # Nothing left to run here (resumed): the output's facts still come from this host's report.
            from .config import read_model_config

            config = read_model_config(stage_model(bucket, job, settings.model, workdir, weights=False))
            meta = output_meta(job, settings, dim=config.hidden_size)
        return report("ok", {port: meta})
    except (JobError, TrainingJobError, MeshError, GcsError, ValueError, OSError) as error:
        return report("failed", {}, str(error))
    except Exception as error:
        # Anything else (an XLA runtime error, a bug) is reported too: a silent host only stalls the engine.
        return report("failed", {}, f"{type(error).__name__}: {error}")


def open_embedder(bucket: Bucket, job: dict, settings: EmbedSettings, workdir: Path, devices: list | None):
    import jax

    from .checkpoint import load_model
    from .embedder import Embedder

    folder = stage_model(bucket, job, settings.model, workdir)
    config, params = load_model(folder)
    if settings.pad_id != config.pad_token_id:
        raise JobError(f"tokens are padded with {settings.pad_id}, the model's pad_token_id is {config.pad_token_id}")
    # Only this host's devices: on a multi-host slice each host is its own program (see the module doc).
    devices = jax.local_devices() if devices is None else devices
    embedder = Embedder(
        config,
        params,
        settings.mesh,
        settings.per_device_batch,
        settings.precision,
        settings.rule,
        settings.max_length,
        devices,
    )
    return embedder, output_meta(job, settings, dim=config.hidden_size)


def output_meta(job: dict, settings: EmbedSettings, dim: int) -> dict:
    """The embeddings artifact's meta, as embed/onnx records its own (rule, tokenizer facts, dim)."""
    rule = settings.rule
    model_files = {name: file_identity(entry) for name, entry in model_entries(job, settings.model).items()}
    meta = {
        "kind": "jax",
        "model": settings.model,
        "model_digests": model_files,
        "pooling": rule.pooling,
        "includeCls": rule.include_cls,
        "prefix": rule.prefix,
        "normalize": rule.normalize,
        "precision": settings.precision,
        "tokenizer": job["inputs"]["tokens"]["meta"],
        "dim": dim,
    }
    return meta


def embed_shard(bucket, job, port, shard, manifest_shard, embedder, settings, workdir, index) -> int:
    from .arrow_shards import read_token_shard, write_vector_shard
    from .merge_windows import merge_windows

    tokens = read_verified(bucket, manifest_shard["digest"], workdir / f"tokens-{shard:06d}.arrow")
    ids, rows = read_token_shard(tokens)
    vectors = embedder.embed(rows)
    merged_ids, merged = merge_windows(ids, vectors, settings.rule.normalize)
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
        "attempt": job["attempt"],
        "worker": index,
    }
    written = bucket.put_json_if_absent(layout.marker(job["key"], port, shard), validate("ShardMarker", marker))
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
