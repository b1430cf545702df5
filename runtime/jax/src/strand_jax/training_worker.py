"""Owns what a TPU host does for a training job (a job spec with `training`, today `finetune/nt-lora`): the
other half of the engine's training strategy (engine/cloud/training-progress.ts). Fetch the model folder and
the examples the engine staged, fetch the checkpoint the job names (every file SHA-256 checked) and resume
from it, run the LoRA trainer (lora_trainer.Trainer, in this process) on this host's devices, and for each
checkpoint Orbax completed: upload its files as objects/SHA256, and only then its CheckpointMarker, so a
half-uploaded checkpoint is never taken for one. Last, the outputs (out/ and tensorboard/ files) the same way,
then the OutputsMarker with the trainer's summary.

One host: the checkpoints are of the whole (replicated) state, which host 0 writes. A slice of several hosts
would need one JAX program over all of them (jax.distributed); the engine refuses such a placement for now
(engine/cloud/remote-target.ts), and this worker refuses a job spec with more than one worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from .gcs import Bucket
from .worker_contract import layout, validate


class TrainingJobError(RuntimeError):
    """The training job cannot run here; the message goes into the host's report."""


def upload_folder(bucket: Bucket, root: Path, folder: Path, prefix: str = "") -> list[dict]:
    """Every file under `folder` as an object by content; the TrainedFile list (paths relative to `root`)."""
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        bucket.put_if_absent(layout.object(digest), data)
        files.append({"path": prefix + path.relative_to(root).as_posix(), "object": digest, "size": len(data)})
    return files


def download_files(bucket: Bucket, files: list[dict], root: Path, fetch: Callable[[Bucket, str, Path], Path]) -> None:
    """The files of a marker under `root`, each checked against its digest by `fetch`."""
    for entry in files:
        destination = root / entry["path"]
        destination.parent.mkdir(parents=True, exist_ok=True)
        fetch(bucket, entry["object"], destination)


def run_training(
    bucket: Bucket,
    job: dict,
    index: int,
    workdir: Path,
    model: Path,
    fetch: Callable[[Bucket, str, Path], Path],
    log: Callable[[str], None],
) -> int:
    """Trains the job on this host; returns the files uploaded (checkpoints and outputs)."""
    from .lora_trainer import Trainer

    if job["workers"] != 1:
        raise TrainingJobError(
            f"a training job runs on one host; this slice has {job['workers']} (multi-host training needs "
            "jax.distributed, which this worker does not start)"
        )
    key, attempt, training = job["key"], job["attempt"], job["training"]
    data = fetch(bucket, training["data"], workdir / "examples.arrow")
    trainer_job = {
        **training["trainer"],
        "model": str(model),
        "data": str(data),
        "out": str(workdir / "out"),
        "checkpoints": str(workdir / "checkpoints"),
        "tensorboard": str(workdir / "tensorboard"),
    }
    resume = training["resume"]
    if resume is not None:
        marker = bucket.get_json(resume["marker"])
        if marker is None:
            raise TrainingJobError(f"checkpoint marker {bucket.uri}/{resume['marker']} is gone")
        validate("CheckpointMarker", marker)
        download_files(bucket, marker["files"], workdir / "resume", fetch)
        trainer_job["resume"] = str(workdir / "resume")
        log(f"worker {index}: resuming from the checkpoint at step {marker['step']} (attempt {attempt})")
    else:
        log(f"worker {index}: starting fresh (attempt {attempt})")
    uploaded = 0

    def emit(event: dict) -> None:
        nonlocal uploaded
        if event.get("kind") == "checkpoint":
            folder = Path(event["dir"])
            files = upload_folder(bucket, folder.parent, folder)
            uploaded += len(files)
            marker = {"step": event["step"], "total": trainer.program.train.total_steps}
            marker |= {"attempt": attempt, "worker": index, "files": files}
            bucket.put_json_if_absent(layout.checkpoint(key, event["step"]), validate("CheckpointMarker", marker))
            log(f"worker {index}: checkpoint at step {event['step']} uploaded ({len(files)} files)")

    trainer = Trainer(trainer_job, emit)
    summary = trainer.run()
    files = upload_folder(bucket, workdir / "out", workdir / "out", "out/")
    files += upload_folder(bucket, workdir / "tensorboard", workdir / "tensorboard", "tensorboard/")
    outputs = {"attempt": attempt, "worker": index, "files": files, "summary": summary}
    bucket.put_json_if_absent(layout.outputs(key), validate("OutputsMarker", outputs))
    log(f"worker {index}: trained to step {summary['steps']}; outputs uploaded ({len(files)} files)")
    return uploaded + len(files)
