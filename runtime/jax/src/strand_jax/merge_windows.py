"""Owns averaging the vectors of consecutive rows that share an id (the windows of one long sequence),
as `mergeWindows` in `steps/embed/pooling.ts` does, so both runtimes write the same artifact rows.
"""

from __future__ import annotations

import numpy as np


def merge_windows(ids: list[str], vectors: np.ndarray, normalize: bool) -> tuple[list[str], np.ndarray]:
    out_ids: list[str] = []
    groups: list[list[int]] = []
    for i, sequence_id in enumerate(ids):
        if out_ids and out_ids[-1] == sequence_id:
            groups[-1].append(i)
        else:
            out_ids.append(sequence_id)
            groups.append([i])
    if len(out_ids) == len(ids):
        return out_ids, vectors
    merged = np.stack([vectors[g].mean(axis=0, dtype=np.float32) for g in groups]).astype(np.float32)
    if normalize:
        norms = np.linalg.norm(merged, axis=1, keepdims=True)
        merged = np.where(norms > 0, merged / np.where(norms > 0, norms, 1), merged)
    return out_ids, merged
