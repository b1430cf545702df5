"""Owns grouping rows into a few fixed (length, batch) shapes, so XLA compiles a handful of programs
however many batches there are: rows sorted by length, each padded to the smallest bucket that holds it,
every batch filled to the global batch size with empty rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_BUCKETS = (32, 64, 128, 256, 512, 1024, 2048)


def buckets_for(max_length: int, buckets: tuple[int, ...] = DEFAULT_BUCKETS) -> tuple[int, ...]:
    """The buckets below max_length, then max_length itself as the last one."""
    return tuple(sorted({b for b in buckets if b < max_length} | {max_length}))


@dataclass(frozen=True)
class Batch:
    # Row indices into the caller's list; -1 marks a filler row.
    rows: np.ndarray
    input_ids: np.ndarray  # [batch, bucket] int32
    attention_mask: np.ndarray  # [batch, bucket] int32


def plan_batches(rows: list[np.ndarray], buckets: tuple[int, ...], batch_size: int, pad_id: int) -> list[Batch]:
    if not rows:
        return []
    longest = max(len(r) for r in rows)
    if longest > buckets[-1]:
        raise ValueError(f"a row has {longest} tokens, more than the largest length bucket {buckets[-1]}")
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i]), i))
    bucket_of = [int(np.searchsorted(buckets, len(rows[i]))) for i in order]
    batches: list[Batch] = []
    start = 0
    while start < len(order):
        b = bucket_of[start]
        end = start
        while end < len(order) and end - start < batch_size and bucket_of[end] == b:
            end += 1
        width = buckets[b]
        ids = np.full((batch_size, width), pad_id, dtype=np.int32)
        mask = np.zeros((batch_size, width), dtype=np.int32)
        index = np.full(batch_size, -1, dtype=np.int64)
        for slot, i in enumerate(order[start:end]):
            ids[slot, : len(rows[i])] = rows[i]
            mask[slot, : len(rows[i])] = 1
            index[slot] = i
        batches.append(Batch(index, ids, mask))
        start = end
    return batches
