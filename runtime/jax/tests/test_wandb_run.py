"""`python -m strand_jax wandb-log`, the W&B run a step trained in TypeScript logs through (wandb_run.py): rows fed
on stdin land in W&B's offline run folder, read back with W&B's own reader of the .wandb log (`wandb leet
inspect`, no network); a malformed row and an online run with no API key are errors that say what to fix."""

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import wandb_records, wandb_summary


def wandb_log(lines: list[dict], tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # HOME in the test folder: no `wandb login` credentials of the machine's user reach the run.
    base = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"} | {"HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "strand_jax", "wandb-log"],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=base | (env or {}),
        timeout=120,
    )


def settings(mode: str) -> dict:
    return {"project": "strand-test", "entity": None, "name": "head", "mode": mode}


def test_rows_land_in_the_offline_run_folder_with_the_config(tmp_path):
    rows = [{"step": s, "values": {"train/loss": 1.0 / s, "train/lr": 0.01}} for s in (1, 2, 3)]
    rows[-1]["values"]["eval/accuracy/genus"] = 0.5
    init = {"settings": settings("offline"), "config": {"batch_size": 64, "levels": ["genus"]}, "dir": str(tmp_path)}
    done = wandb_log([init, *rows], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["kind"] for line in lines] == ["wandb-run", "wandb-summary"]
    folder = Path(lines[-1]["folder"])
    assert folder.parent == tmp_path / "wandb" and folder.name.startswith("offline-run-")
    assert lines[-1]["rows"] == 3

    summary = wandb_summary(folder)
    assert (summary["project"], summary["name"], summary["state"]) == ("strand-test", "head", "finished")
    assert summary["config"] == {"batch_size": 64, "levels": ["genus"]}
    records = wandb_records(folder)
    history = [r["history"]["item"] for r in records if r["type"] == "history"]
    assert [h["_step"] for h in history] == [1, 2, 3]
    assert [h["train/loss"] for h in history] == [1.0, 0.5, 1.0 / 3]
    assert history[-1]["eval/accuracy/genus"] == 0.5


def test_a_row_that_is_not_numbers_is_named_by_its_path(tmp_path):
    init = {"settings": settings("offline"), "config": {}, "dir": str(tmp_path)}
    done = wandb_log([init, {"step": 1, "values": {"train/loss": "high"}}], tmp_path)
    assert done.returncode == 1
    assert "WandbRow at values/train/loss: 'high' is not of type 'number'" in done.stderr


def test_an_online_run_without_an_api_key_says_how_to_give_one(tmp_path):
    init = {"settings": settings("online"), "config": {}, "dir": str(tmp_path)}
    done = wandb_log([init], tmp_path)
    assert done.returncode == 1
    assert "W&B cannot start the online run in project strand-test" in done.stderr
    assert "set WANDB_API_KEY in the environment Strand runs in" in done.stderr and "mode: offline" in done.stderr
