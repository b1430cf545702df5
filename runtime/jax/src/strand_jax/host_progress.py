"""Owns a host's live progress: one small object, `jobs/KEY/progress/ATTEMPT-W.json` (the worker contract's
HostProgress), rewritten at most every `progressSeconds` of the job spec (the engine's poll interval: a host
writes no more often than the engine reads) and once when the host ends. While a host embeds: the rows and
tokens it embedded and the shard it is on. While a slice trains, the primary host's (worker 0) last
train-progress line from the trainer: step, loss, tokens/s, ETA, and before each checkpoint marker whatever
the interval (`flush`), so the object is never behind a marker the engine reads. The engine reads these
between markers for the run view; a host's writes are bounded by its run time (and its checkpoints), not its
rows or steps. The object is advisory: a write that fails for good is skipped (the next one due tries again)
and never fails the job."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .gcs import Bucket, GcsError
from .worker_contract import layout, validate

# The train-progress fields a training host's object carries (HostProgress.training).
TRAINING_FIELDS = ("step", "total", "loss", "tokens_per_second", "eta_seconds")


class HostProgress:
    def __init__(
        self,
        bucket: Bucket,
        spec: dict[str, Any],
        worker: int,
        log: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.bucket, self.spec, self.worker, self.log, self.clock = bucket, spec, worker, log, clock
        self.every = float(spec["progressSeconds"])
        self.started = clock()
        self.written: float | None = None
        self.rows = self.tokens = self.shards = 0
        self.shard: int | None = None
        self.training: dict[str, Any] | None = None
        # Whether a step was counted since the last write.
        self.behind = False

    # --- while it embeds -----------------------------------------------------------------------------------
    def start_shard(self, shard: int) -> None:
        self.shard = shard

    def batch(self, rows: int, tokens: int) -> None:
        """After each batch: counted, and written if due."""
        self.rows += rows
        self.tokens += tokens
        self.behind = True
        self.write_if_due()

    def end_shard(self) -> None:
        self.shards += 1
        self.shard = None

    # --- while the slice trains ----------------------------------------------------------------------------
    def train_step(self, line: dict[str, Any]) -> None:
        """After each train step, with the trainer's train-progress line (its counts are the attempt's so far):
        kept, and written if due."""
        self.rows, self.tokens = int(line["rows"]), int(line["tokens"])
        self.training = {name: line[name] for name in TRAINING_FIELDS}
        self.behind = True
        self.write_if_due()

    def flush(self) -> None:
        """Before a checkpoint marker: written if a step was counted since the last write, due or not."""
        if self.behind:
            self.write(True)

    # --- the object ----------------------------------------------------------------------------------------
    def write_if_due(self) -> None:
        if self.written is None or self.clock() - self.written >= self.every:
            self.write(True)

    def write(self, running: bool) -> None:
        self.written = self.clock()
        self.behind = False
        value: dict[str, Any] = {
            "attempt": self.spec["attempt"],
            "worker": self.worker,
            "running": running,
            "shard": self.shard,
            "shards": self.shards,
            "rows": self.rows,
            "tokens": self.tokens,
            "seconds": round(self.written - self.started, 3),
        }
        if self.training is not None:
            value["training"] = self.training
        name = layout.progress(self.spec["key"], self.spec["attempt"], self.worker)
        try:
            self.bucket.put_json(name, validate("HostProgress", value))
        except GcsError as error:
            self.log(f"worker {self.worker}: progress not written ({error}); the job goes on")
