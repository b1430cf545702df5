"""Owns a host's live progress while it embeds: the rows and tokens it embedded and the seconds it spent,
rewritten as one small object, `jobs/KEY/progress/ATTEMPT-W.json` (the worker contract's HostProgress), at
most every PROGRESS_EVERY_S seconds and once when the host ends. The engine reads these between shard
markers for tokens/s and an ETA in the run view; a host's writes are bounded by its run time, not its rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .gcs import Bucket
from .worker_contract import layout, validate

# A host rewrites its progress object at most this often (and once when it ends).
PROGRESS_EVERY_S = 10.0


class HostProgress:
    def __init__(self, bucket: Bucket, spec: dict[str, Any], worker: int, clock: Callable[[], float] = time.monotonic):
        self.bucket, self.spec, self.worker, self.clock = bucket, spec, worker, clock
        self.started = clock()
        self.written: float | None = None
        self.rows = self.tokens = self.shards = 0
        self.shard: int | None = None

    def start_shard(self, shard: int) -> None:
        self.shard = shard

    def batch(self, rows: int, tokens: int) -> None:
        """After each batch: counted, and written if PROGRESS_EVERY_S passed since the last write."""
        self.rows += rows
        self.tokens += tokens
        if self.written is None or self.clock() - self.written >= PROGRESS_EVERY_S:
            self.write(True)

    def end_shard(self) -> None:
        self.shards += 1
        self.shard = None

    def write(self, running: bool) -> None:
        self.written = self.clock()
        value = {
            "attempt": self.spec["attempt"],
            "worker": self.worker,
            "running": running,
            "shard": self.shard,
            "shards": self.shards,
            "rows": self.rows,
            "tokens": self.tokens,
            "seconds": round(self.written - self.started, 3),
        }
        self.bucket.put_json(
            layout.progress(self.spec["key"], self.spec["attempt"], self.worker), validate("HostProgress", value)
        )
