"""Owns the interchange with the TypeScript engine: Arrow IPC files, the same bytes the engine's store
holds for an artifact shard (`tableToIPC(table, 'file')`). Token shards in (id: utf8, tokens:
list<int32>, length: int32, as `steps/tokenize/token-shards.ts` writes), embedding shards out (id: utf8,
vector: fixed_size_list<float32 not null>[dim], as `steps/embed/onnx.ts` writes), and those shards read back
for clustering (cluster_job.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa


class ShardError(ValueError):
    """A token shard is unreadable or lacks the columns the tokenize steps write."""


def read_token_shard(path: str | Path) -> tuple[list[str], list[np.ndarray]]:
    table = _read_table(path)
    for name in ("id", "tokens"):
        if name not in table.column_names:
            raise ShardError(f"{path} has no column {name!r} (columns: {', '.join(table.column_names)})")
    tokens = table.column("tokens").combine_chunks()
    if not pa.types.is_list(tokens.type) or not pa.types.is_integer(tokens.type.value_type):
        raise ShardError(f"{path}: column tokens is {tokens.type}, not list<int32>")
    offsets = tokens.offsets.to_numpy()
    values = tokens.values.to_numpy().astype(np.int32)
    rows = [values[offsets[i] : offsets[i + 1]] for i in range(len(tokens))]
    return table.column("id").to_pylist(), rows


def vector_table(ids: list[str], vectors: np.ndarray) -> pa.Table:
    dim = vectors.shape[1]
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1), type=pa.float32())
    vector_type = pa.list_(pa.field("item", pa.float32(), nullable=False), dim)
    return pa.table(
        {"id": pa.array(ids, type=pa.utf8()), "vector": pa.FixedSizeListArray.from_arrays(flat, type=vector_type)}
    )


def write_vector_shard(path: str | Path, ids: list[str], vectors: np.ndarray) -> None:
    write_shard(path, vector_table(ids, vectors))


def write_shard(path: str | Path, table: pa.Table) -> None:
    """Written to a temporary name, fsynced and renamed: a shard exists only once it is whole."""
    path = Path(path)
    temporary = path.with_name(f".tmp-{path.name}")
    with pa.OSFile(str(temporary), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_vector_shard(path: str | Path) -> tuple[pa.Table, np.ndarray]:
    """An embedding shard (as write_vector_shard writes it, other columns kept) and its vectors as (rows, dim)."""
    table = _read_table(path)
    if "vector" not in table.column_names:
        raise ShardError(f"{path} has no column 'vector' (columns: {', '.join(table.column_names)})")
    vectors = table.column("vector").combine_chunks()
    if not pa.types.is_fixed_size_list(vectors.type) or not pa.types.is_float32(vectors.type.value_type):
        raise ShardError(f"{path}: column vector is {vectors.type}, not fixed_size_list<float32>")
    dim = vectors.type.list_size
    flat = vectors.flatten().to_numpy(zero_copy_only=False)
    return table, flat.reshape(len(vectors), dim)


def _read_table(path: str | Path) -> pa.Table:
    try:
        with pa.memory_map(str(path)) as source:
            return pa.ipc.open_file(source).read_all()
    except (OSError, pa.ArrowInvalid) as error:
        raise ShardError(f"{path} is not an Arrow IPC file: {error}") from None
