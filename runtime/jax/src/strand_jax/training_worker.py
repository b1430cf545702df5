"""Owns what a TPU host does for a train job (the JobSpec's `job` is a TrainJob and its `training` names the
examples and the checkpoint to resume from): the other half of the engine's training strategy
(engine/cloud/training-progress.ts). Fetch the examples the engine staged (the model folder is staged by the
worker), fetch the checkpoint the job names (every file SHA-256 checked) and resume from it, run the LoRA
trainer (lora_trainer.Trainer, in this process) on this host's devices with this host's TrainPaths, and for each
checkpoint Orbax completed: upload its files as objects/SHA256, and only then its CheckpointMarker, so a
half-uploaded checkpoint is never taken for one. While it trains, the primary host rewrites its progress object
with the trainer's last train-progress line (host_progress.py: step, loss, tokens/s, ETA; at most every
`progressSeconds` of the job spec, before each checkpoint marker, and once when the trainer returns, before the
outputs), so the run view moves between checkpoint markers. Last, the outputs (out/, tensorboard/ and, for a
job with wandb, W&B's wandb/ run folder) the same way, then the OutputsMarker with the trainer's summary. The
W&B run itself is logged from this host (lora_trainer.py); an online run needs WANDB_API_KEY in this process's
environment.

A slice of several hosts runs one JAX program over all of them (the worker joined it, distributed.py): every
host fetches the examples and the checkpoint to resume from and trains its part of each step's batch; the
checkpoints are of the whole (replicated) state, which the primary host (0) alone writes and uploads, with
its markers, its progress object and the outputs. Every host writes its own report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .gcs import Bucket
from .host_progress import HostProgress
from .job import TrainJob, TrainPaths
from .staging import read_verified
from .worker_contract import layout, validate


class TrainingJobError(RuntimeError):
    """The training job cannot run here; the message goes into the host's report."""


def upload_folder(bucket: Bucket, root: Path, folder: Path, prefix: str = "") -> list[dict[str, Any]]:
    """Every file under `folder` as an object by content; the TrainedFile list (paths relative to `root`)."""
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        bucket.put_if_absent(layout.object(digest), data)
        files.append({"path": prefix + path.relative_to(root).as_posix(), "object": digest, "size": len(data)})
    return files


def download_files(bucket: Bucket, files: list[dict[str, Any]], root: Path) -> None:
    """The files of a marker under `root`, each checked against its digest."""
    for entry in files:
        destination = root / entry["path"]
        destination.parent.mkdir(parents=True, exist_ok=True)
        read_verified(bucket, entry["object"], destination)


def run_training(
    bucket: Bucket,
    spec: dict[str, Any],
    job: TrainJob,
    index: int,
    workdir: Path,
    model: Path,
    log: Callable[[str], None],
    devices: list | None = None,
) -> int:
    """Trains the JobSpec's TrainJob on this host; returns the files uploaded (checkpoints and outputs)."""
    from .lora_trainer import Trainer

    key, attempt, training = spec["key"], spec["attempt"], spec["training"]
    data = read_verified(bucket, training["data"], workdir / "examples.arrow")
    resume = None
    if training["resume"] is not None:
        marker = bucket.get_json(training["resume"]["marker"])
        if marker is None:
            raise TrainingJobError(f"checkpoint marker {bucket.uri}/{training['resume']['marker']} is gone")
        validate("CheckpointMarker", marker)
        download_files(bucket, marker["files"], workdir / "resume")
        resume = workdir / "resume"
        log(f"worker {index}: resuming from the checkpoint at step {marker['step']} (attempt {attempt})")
    else:
        log(f"worker {index}: starting fresh (attempt {attempt})")
    paths = TrainPaths(
        model=model,
        data=data,
        out=workdir / "out",
        checkpoints=workdir / "checkpoints",
        tensorboard=workdir / "tensorboard",
        resume=resume,
        wandb=workdir / "wandb" if job.wandb is not None else None,
    )
    uploaded = 0
    # The primary host's alone: every host trains the same steps, one object is the slice's progress.
    progress = HostProgress(bucket, spec, index, log) if index == 0 else None

    def emit(event: dict[str, Any]) -> None:
        nonlocal uploaded
        if event.get("kind") == "train-progress" and progress is not None:
            progress.train_step(event)
        elif event.get("kind") == "checkpoint":
            if progress is not None:
                progress.flush()  # the progress object is never behind a checkpoint marker
            folder = Path(event["dir"])
            files = upload_folder(bucket, folder.parent, folder)
            uploaded += len(files)
            marker = {"step": event["step"], "total": trainer.program.train.total_steps}
            marker |= {"attempt": attempt, "worker": index, "files": files}
            bucket.put_json_if_absent(layout.checkpoint(key, event["step"]), validate("CheckpointMarker", marker))
            log(f"worker {index}: checkpoint at step {event['step']} uploaded ({len(files)} files)")

    trainer = Trainer(job, paths, emit, devices=devices)
    summary = trainer.run()
    if progress is not None:
        # Before the outputs marker: the engine, seeing that marker, finds the last step here too.
        progress.write(running=False)
    if index != 0:
        log(f"worker {index}: trained to step {summary['steps']}; host 0 uploads the outputs")
        return 0
    files = upload_folder(bucket, workdir / "out", workdir / "out", "out/")
    files += upload_folder(bucket, workdir / "tensorboard", workdir / "tensorboard", "tensorboard/")
    if paths.wandb is not None:
        # W&B's run folder (an offline run's, for `wandb sync`; an online run's local copy), as it left it.
        files += upload_folder(bucket, paths.wandb, paths.wandb, "wandb/")
    outputs = {"attempt": attempt, "worker": index, "files": files, "summary": summary}
    bucket.put_json_if_absent(layout.outputs(key), validate("OutputsMarker", outputs))
    log(f"worker {index}: trained to step {summary['steps']}; outputs uploaded ({len(files)} files)")
    return uploaded + len(files)
