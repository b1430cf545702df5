"""Owns a training job's examples: the Arrow IPC file the engine writes (id, tokens, split, labels — label ids
per level, -1 masked, computed by the engine's taxonomy label handling), read into rows, and rows padded into
a fixed [rows, length] batch with its attention mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

TRAIN, VAL = "train", "val"


@dataclass
class Examples:
    ids: list[str]
    rows: list[np.ndarray]
    split: list[str]
    labels: np.ndarray  # [examples, levels]

    def indices(self, which: str) -> np.ndarray:
        return np.asarray([i for i, s in enumerate(self.split) if s == which], dtype=np.int64)


def read_examples(path: str | Path, levels: int) -> Examples:
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    missing = [c for c in ("id", "tokens", "split", "labels") if c not in table.column_names]
    if missing:
        raise ValueError(f"{path} has no column {missing[0]!r} (columns: {', '.join(table.column_names)})")
    tokens = table.column("tokens").combine_chunks()
    offsets, values = tokens.offsets.to_numpy(), tokens.values.to_numpy().astype(np.int32)
    rows = [values[offsets[i] : offsets[i + 1]] for i in range(len(tokens))]
    labels = np.asarray(table.column("labels").to_pylist(), dtype=np.int32).reshape(len(rows), levels)
    return Examples(table.column("id").to_pylist(), rows, table.column("split").to_pylist(), labels)


def padded(rows: list[np.ndarray], length: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.full((len(rows), length), pad_id, dtype=np.int32)
    mask = np.zeros((len(rows), length), dtype=np.int32)
    for i, row in enumerate(rows):
        ids[i, : len(row)], mask[i, : len(row)] = row[:length], 1
    return ids, mask
