"""Owns the interchange with the TypeScript engine: Arrow IPC files, the same bytes the engine's store
holds for an artifact shard (`tableToIPC(table, 'file')`). Token shards in (id: utf8, tokens:
list<int32>, length: int32, as `steps/tokenize/token-shards.ts` writes), embedding shards out (id: utf8,
vector: fixed_size_list<float32 not null>[dim], as `steps/embed/onnx.ts` writes).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa


class ShardError(ValueError):
    """A token shard is unreadable or lacks the columns the tokenize steps write."""


def read_token_shard(path: str | Path) -> tuple[list[str], list[np.ndarray]]:
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
    except (OSError, pa.ArrowInvalid) as error:
        raise ShardError(f"{path} is not an Arrow IPC file: {error}") from None
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
    """Written to a temporary name, fsynced and renamed: a shard exists only once it is whole."""
    path = Path(path)
    table = vector_table(ids, vectors)
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
