"""Owns the JAX job as typed values: `jax_job.schema.json`'s EmbedJob, TrainJob, JaxPlacement, EmbedPaths,
TrainPaths and LocalRun as frozen dataclasses, parsed only after the value passed the schema (the engine
checked it too before writing it). Also what a placement asks of this process: the platform it must run on
(`configure_platform` before JAX is imported, `require_platform` after) and this host's part of the mesh.

Imports no JAX: the placement decides how JAX starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .mesh_spec import MeshError, MeshSpec
from .schemas import check_against

SCHEMA = "jax_job.schema.json"
DEVICE_COUNT_FLAG = "--xla_force_host_platform_device_count"
# Set by the local TPU server's hosts (test/emulators/tpu-server.ts) to the platform whose devices stand in for
# the slice's chips there ("cpu"). Never set on a real host: there a job placed on a TPU runs on TPUs or not at all.
STAND_IN_ENV = "STRAND_STAND_IN_PLATFORM"


class JaxJobError(ValueError):
    """A job (or a local run) does not follow jax_job.schema.json."""


class PlatformError(RuntimeError):
    """The job is placed on an accelerator JAX does not see here."""


@dataclass(frozen=True)
class JaxPlacement:
    platform: str  # cpu, tpu or gpu
    hosts: int
    # kind: cpu: the XLA host devices the CPU is split into; None elsewhere.
    host_devices: int | None
    # The whole mesh, over every host: each host runs `host_mesh` of it.
    mesh: MeshSpec
    per_device_batch: int
    precision: str  # fp32 or bf16


@dataclass(frozen=True)
class EmbedJob:
    kind: ClassVar[str] = "embed"
    # The model folder as the workflow names it (local path or gs:// folder); where its files are is the
    # running machine's business (EmbedPaths.model, or the JobSpec's files).
    model: str
    pooling: str
    include_cls: bool
    prefix: int
    normalize: bool
    pad_id: int
    # The last length bucket (the tokenizer's max_tokens); None: the model's own limit.
    max_length: int | None
    adapters: bool
    placement: JaxPlacement


@dataclass(frozen=True)
class TrainLength:
    """How long to train: exactly one of optimizer steps or epochs over the training examples."""

    steps: int | None = None
    epochs: int | None = None


@dataclass(frozen=True)
class WandbSettings:
    """jax_job.schema.json's WandbSettings: the W&B run a training job logs to."""

    project: str
    entity: str | None
    name: str | None
    mode: str  # "online" | "offline"


def parse_wandb_settings(value: dict[str, Any]) -> WandbSettings:
    """A schema-checked WandbSettings value as the dataclass."""
    return WandbSettings(project=value["project"], entity=value["entity"], name=value["name"], mode=value["mode"])


@dataclass(frozen=True)
class TrainJob:
    kind: ClassVar[str] = "train"
    base_model: str
    levels: tuple[str, ...]
    classes: tuple[tuple[str, ...], ...]
    include_cls: bool
    prefix: int
    max_length: int | None
    # jax_job.schema.json's TrainSettings (lora, train, hidden, weights), schema-checked; job_settings
    # (lora_trainer.py) turns it into LoraSettings, TrainSettings and HeadSpec, as the pre-flight does.
    settings: dict[str, Any]
    length: TrainLength
    eval_every: int | None
    checkpoint_every_steps: int | None
    checkpoint_every_minutes: float
    placement: JaxPlacement
    # Where the metrics also go (wandb_run.py); None: no W&B run.
    wandb: WandbSettings | None = None


JaxJob = EmbedJob | TrainJob


@dataclass(frozen=True)
class EmbedPaths:
    model: Path
    # The peft folder; set exactly when the job has adapters.
    adapters: Path | None
    tokens: tuple[Path, ...]
    out: Path


@dataclass(frozen=True)
class TrainPaths:
    model: Path
    data: Path
    out: Path
    checkpoints: Path
    tensorboard: Path
    resume: Path | None = None
    # The folder W&B writes its wandb/ run folders under (set when the job has wandb).
    wandb: Path | None = None


@dataclass(frozen=True)
class LocalRun:
    """What `python -m strand_jax run RUN.json` reads: the job and where its files are on this machine."""

    job: JaxJob
    paths: EmbedPaths | TrainPaths


def parse_job(value: Any) -> JaxJob:
    """A JaxJob value (JSON), checked against the schema, as dataclasses; JaxJobError names the first problem."""
    return _job(_checked(value, {"embed": "EmbedJob", "train": "TrainJob"}, "JaxJob"))


def parse_local_run(value: Any) -> LocalRun:
    """A LocalRun value (JSON), checked against the schema, as dataclasses."""
    check_against(SCHEMA, "LocalRun", value, JaxJobError)
    job = _job(value["job"])
    paths = value["paths"]
    if isinstance(job, EmbedJob):
        adapters = paths.get("adapters")
        if job.adapters != (adapters is not None):
            raise JaxJobError(
                "LocalRun at paths/adapters: the job has adapters but no folder is given"
                if job.adapters
                else "LocalRun at paths/adapters: a folder is given but the job has no adapters"
            )
        return LocalRun(
            job,
            EmbedPaths(
                model=Path(paths["model"]),
                adapters=None if adapters is None else Path(adapters),
                tokens=tuple(Path(p) for p in paths["tokens"]),
                out=Path(paths["out"]),
            ),
        )
    resume = paths.get("resume")
    if (job.wandb is not None) != ("wandb" in paths):
        raise JaxJobError(
            "LocalRun at paths/wandb: the job logs to W&B but no folder is given"
            if job.wandb is not None
            else "LocalRun at paths/wandb: a folder is given but the job has no wandb"
        )
    return LocalRun(
        job,
        TrainPaths(
            model=Path(paths["model"]),
            data=Path(paths["data"]),
            out=Path(paths["out"]),
            checkpoints=Path(paths["checkpoints"]),
            tensorboard=Path(paths["tensorboard"]),
            resume=None if resume is None else Path(resume),
            wandb=Path(paths["wandb"]) if "wandb" in paths else None,
        ),
    )


def _checked(value: Any, kinds: dict[str, str], union: str) -> dict[str, Any]:
    # Checked against the branch the value's kind names, so a problem is named inside it.
    kind = kinds.get(str(value.get("kind"))) if isinstance(value, dict) else None
    checked: dict[str, Any] = check_against(SCHEMA, kind or union, value, JaxJobError)
    return checked


def _job(value: dict[str, Any]) -> JaxJob:
    placement = _placement(value["placement"])
    if value["kind"] == "embed":
        return EmbedJob(
            model=value["model"],
            pooling=value["pooling"],
            include_cls=value["include_cls"],
            prefix=value["prefix"],
            normalize=value["normalize"],
            pad_id=value["pad_id"],
            max_length=value["max_length"],
            adapters=value["adapters"],
            placement=placement,
        )
    if len(value["classes"]) != len(value["levels"]) or len(value["settings"]["weights"]) != len(value["levels"]):
        raise JaxJobError(
            f"TrainJob: {len(value['levels'])} levels, {len(value['classes'])} class lists and "
            f"{len(value['settings']['weights'])} loss weights; each level needs one of each"
        )
    length = value["length"]
    return TrainJob(
        base_model=value["base_model"],
        levels=tuple(value["levels"]),
        classes=tuple(tuple(c) for c in value["classes"]),
        include_cls=value["include_cls"],
        prefix=value["prefix"],
        max_length=value["max_length"],
        settings=value["settings"],
        length=TrainLength(steps=length.get("steps"), epochs=length.get("epochs")),
        eval_every=value["eval_every"],
        checkpoint_every_steps=value["checkpoint_every_steps"],
        checkpoint_every_minutes=float(value["checkpoint_every_minutes"]),
        placement=placement,
        wandb=parse_wandb_settings(value["wandb"]) if "wandb" in value else None,
    )


def _placement(value: dict[str, Any]) -> JaxPlacement:
    mesh = value["mesh"]
    return JaxPlacement(
        platform=value["platform"],
        hosts=value["hosts"],
        host_devices=value["host_devices"],
        mesh=MeshSpec(mesh["data"], mesh["fsdp"], mesh["tp"]),
        per_device_batch=value["per_device_batch"],
        precision=value["precision"],
    )


def host_mesh(placement: JaxPlacement) -> MeshSpec:
    """This host's part of the step's mesh: `data` divided over the hosts; fsdp and tp stay within a host."""
    mesh, hosts = placement.mesh, placement.hosts
    if mesh.data % hosts != 0:
        raise MeshError(
            f"mesh data={mesh.data} does not divide over the slice's {hosts} hosts; each host runs data/{hosts} "
            "of it (fsdp and tp stay within a host)"
        )
    return MeshSpec(mesh.data // hosts, mesh.fsdp, mesh.tp)


def configure_platform(placement: JaxPlacement, env: MutableMapping[str, str] = os.environ) -> None:
    """Sets what JAX reads when it starts: call before `import jax`. JAX looks for the placement's platform
    only ('gpu' is JAX's name for CUDA or ROCm): a GPU job does not spend seconds initialising libtpu, which
    the runtime's venv holds for the pre-flight. A cpu placement with host_devices splits the CPU into that
    many XLA devices."""
    env["JAX_PLATFORMS"] = placement.platform
    if placement.platform != "cpu":
        return
    if placement.host_devices is not None:
        flags = re.sub(rf"\s*{DEVICE_COUNT_FLAG}=\S*", "", env.get("XLA_FLAGS", ""))
        env["XLA_FLAGS"] = f"{flags} {DEVICE_COUNT_FLAG}={placement.host_devices}".strip()


def visible_platform() -> str:
    """The platform of JAX's devices; 'cpu' when JAX cannot start the one JAX_PLATFORMS names (then JAX is
    switched to the CPU, which it always has, so the message can say what it sees)."""
    import jax

    try:
        return str(jax.devices()[0].platform)
    except RuntimeError:
        jax.config.update("jax_platforms", "cpu")
        return str(jax.devices()[0].platform)


def require_platform(placement: JaxPlacement, found: str, stand_in: str | None = None) -> None:
    """Stops a job placed on an accelerator when JAX's devices (`found`: jax.devices()[0].platform, 'gpu' for
    CUDA) are of another platform, before any model is loaded: a step placed on a GPU runs on one or not at all.
    `stand_in`: the platform an emulated host declares stands in for the placement's (STAND_IN_ENV)."""
    if placement.platform != "cpu" and found != placement.platform and found != stand_in:
        raise PlatformError(
            f"this step is placed on a {placement.platform}, and JAX here sees only {found} devices; install the "
            "accelerator plugin into the runtime's venv (`strand doctor` says how)"
        )
