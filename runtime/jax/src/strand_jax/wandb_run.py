"""Owns a Weights & Biases run of a training job, through the official `wandb` client: started with the job's
WandbSettings and the run's config, fed the same scalars the TensorBoard event files get (one row per optimizer
step, the evaluations at their step), finished when training ends. `online` streams to the W&B server with the
API key W&B reads from WANDB_API_KEY in this process's environment (never from the job, which holds no key);
`offline` writes W&B's own run folder, `DIR/wandb/offline-run-*`, for `wandb sync`. W&B's console capture is
off (stdout carries the runtime's JSON lines) and so is its git probe (the run's code is the runtime's).

Also `python -m strand_jax wandb-log` (`log_from_lines`): the same run fed from stdin, for a step trained in
TypeScript (finetune/taxonomy-head): a WandbLog line, then WandbRow lines; stdin closing finishes the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .job import WandbSettings, parse_wandb_settings
from .schemas import check_against


class WandbError(ValueError):
    """W&B could not start the run (e.g. online with no API key); the message says how to fix it."""


class WandbRun:
    def __init__(self, settings: WandbSettings, folder: Path, config: dict[str, Any]):
        import wandb

        folder.mkdir(parents=True, exist_ok=True)
        try:
            self._run = wandb.init(
                project=settings.project,
                entity=settings.entity,
                name=settings.name,
                mode=settings.mode,  # type: ignore[arg-type]  # checked by the schema: "online" | "offline"
                dir=str(folder),
                config=config,
                settings=wandb.Settings(console="off", silent=True, disable_git=True, save_code=False),
            )
        except (wandb.errors.UsageError, wandb.errors.AuthenticationError, wandb.errors.CommError) as error:
            hint = (
                "set WANDB_API_KEY in the environment Strand runs in (or `wandb login`), or use mode: offline"
                if settings.mode == "online"
                else "check the wandb settings"
            )
            raise WandbError(
                f"W&B cannot start the {settings.mode} run in project {settings.project}: {error}; {hint}"
            ) from error
        # DIR/wandb/<offline-run-|run->TIME-ID: the folder `wandb sync` takes.
        self.folder = Path(self._run.dir).parent

    def scalars(self, step: int, values: dict[str, float], wall_time: float | None = None) -> None:
        """One row at `step` (W&B stamps its own time; `wall_time` is TensorBoard's, accepted for one call shape)."""
        self._run.log(dict(values), step=step)

    def close(self, exit_code: int = 0) -> None:
        """Ends the run; a non-zero `exit_code` marks it failed in W&B (a training that diverged)."""
        self._run.finish(exit_code=exit_code)


def log_from_lines(lines: Iterable[str], emit: Callable[[dict], None]) -> dict[str, Any]:
    """Runs `wandb-log`: emits `wandb-run` once the run has started, returns the `wandb-summary`."""
    import json

    lines = iter(lines)
    first = next(lines, None)
    if first is None:
        raise ValueError("wandb-log: stdin closed before the WandbLog line")
    init = check_against("jax_job.schema.json", "WandbLog", json.loads(first), ValueError)
    run = WandbRun(parse_wandb_settings(init["settings"]), Path(init["dir"]), init["config"])
    emit({"kind": "wandb-run", "folder": str(run.folder)})
    rows = 0
    for line in lines:
        if line.strip():
            row = check_against("jax_job.schema.json", "WandbRow", json.loads(line), ValueError)
            run.scalars(row["step"], row["values"])
            rows += 1
    run.close()
    return {"kind": "wandb-summary", "folder": str(run.folder), "rows": rows}
