"""Owns bringing a remote job's files onto a TPU host, each checked before use: objects the engine staged
by content (`objects/SHA256` under the job's root, SHA-256 checked), gs:// files read at exactly the
generation the plan listed (md5 checked), the model folder the JobSpec lists file by file, and a peft
adapters artifact (one Arrow row, its folder packed as steps/finetune/directory-bytes.ts packs it).
"""

from __future__ import annotations

import json
import posixpath
import struct
from pathlib import Path, PurePosixPath
from typing import Any

from .gcs import Bucket, GcsError
from .worker_contract import layout

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class StagingError(RuntimeError):
    """A job file cannot be brought here intact; the message goes into the host's report."""


def read_verified(bucket: Bucket, digest: str, destination: Path) -> Path:
    """The staged object objects/DIGEST at `destination`, its bytes checked against the digest."""
    if not destination.exists():
        part = destination.with_name(f"{destination.name}.part")
        try:
            got = bucket.download_file(layout.object(digest), part)
        except GcsError as error:
            raise StagingError(f"staged object {digest} cannot be read from {bucket.uri}: {error}") from None
        if got != digest:
            raise StagingError(f"staged object {digest} in {bucket.uri} does not match its digest")
        part.replace(destination)
    return destination


def fetch_file(bucket: Bucket, entry: dict[str, Any], destination: Path) -> Path:
    """A job file on this host: a staged one from objects/ (SHA-256 checked), or a gs:// one read from its own
    bucket at exactly the generation the plan listed, checked against the md5 it listed."""
    if "object" in entry:
        return read_verified(bucket, entry["object"], destination)
    version = entry["gcs"]
    uri = f"gs://{version['bucket']}/{version['name']}"
    if not destination.exists():
        if version["md5"] is None:
            raise StagingError(
                f"{uri} has no md5 (a composite object), which is what this worker checks objects by; "
                "rewrite it as one object (gcloud storage cp), or stage the model from a local folder"
            )
        part = destination.with_name(f"{destination.name}.part")
        try:
            bucket.client.download_file(
                version["bucket"], version["name"], part, generation=version["generation"], md5=version["md5"]
            )
        except GcsError as error:
            raise StagingError(str(error)) from None
        part.replace(destination)
    return destination


def file_identity(entry: dict[str, Any]) -> str:
    """What names a job file's content: its staged digest, or the object version the plan listed."""
    if "object" in entry:
        return str(entry["object"])
    version = entry["gcs"]
    return f"gs://{version['bucket']}/{version['name']}#{version['generation']}"


def model_entries(spec: dict[str, Any], folder: str) -> dict[str, dict[str, Any]]:
    """The JobSpec's files under the model folder (as the workflow names it), by file name."""
    root = posixpath.normpath(folder)
    return {
        posixpath.basename(posixpath.normpath(e["path"])): e
        for e in spec["files"]
        if posixpath.dirname(posixpath.normpath(e["path"])) == root
    }


def stage_model(bucket: Bucket, spec: dict[str, Any], folder: str, workdir: Path, weights: bool = True) -> Path:
    """The model folder as the JobSpec lists it: one `files` entry per file under it (config.json, the
    weights), staged or on Cloud Storage; with weights=False only config.json (enough for the output's facts,
    without GBs of weights)."""
    target = workdir / "model"
    target.mkdir(parents=True, exist_ok=True)
    entries = model_entries(spec, folder)
    if "config.json" not in entries or not any(w in entries for w in WEIGHT_FILES):
        raise StagingError(f"the job does not stage {folder}/config.json and its weights ({' or '.join(WEIGHT_FILES)})")
    for name, entry in entries.items():
        if weights or name == "config.json":
            fetch_file(bucket, entry, target / name)
    return target


def stage_adapters(bucket: Bucket, manifest: dict[str, Any], workdir: Path) -> Path:
    """The peft folder of an `adapters` artifact (finetune/nt-lora's output): shard 0 is an Arrow IPC file
    whose column `peft` holds the folder packed; unpacked under workdir/adapters."""
    import pyarrow as pa

    shards = {s["index"]: s for s in manifest["shards"]}
    if 0 not in shards:
        raise StagingError("the adapters input has no shard 0 (the packed peft folder)")
    path = read_verified(bucket, shards[0]["digest"], workdir / "adapters.arrow")
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    if "peft" not in table.column_names or table.num_rows < 1:
        raise StagingError(
            f"the adapters artifact has no packed peft folder (columns: {', '.join(table.column_names)})"
        )
    target = workdir / "adapters"
    unpack_directory(table.column("peft")[0].as_py(), target)
    return target


def unpack_directory(data: bytes, target: Path) -> list[str]:
    """Writes a packed folder (steps/finetune/directory-bytes.ts: a 4-byte little-endian index length, a JSON
    index [{path, size}], then the files' bytes in order) under `target`; returns its paths. A path that
    would leave the folder, or bytes that do not add up, are refused before anything is written."""
    if len(data) < 4:
        raise StagingError("packed folder is shorter than its header")
    (length,) = struct.unpack_from("<I", data, 0)
    try:
        index = json.loads(data[4 : 4 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StagingError(f"packed folder index is not JSON: {error}") from None
    files: list[tuple[PurePosixPath, int, int]] = []
    at = 4 + length
    for entry in index:
        path = PurePosixPath(posixpath.normpath(str(entry["path"])))
        if path.is_absolute() or path.parts[:1] == ("..",) or str(path) in ("", "."):
            raise StagingError(f"packed path {entry['path']} leaves its folder")
        files.append((path, at, int(entry["size"])))
        at += int(entry["size"])
    if at != len(data):
        raise StagingError(f"packed folder holds {len(data)} bytes, its index accounts for {at}")
    for path, start, size in files:
        destination = target.joinpath(*path.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data[start : start + size])
    return [str(path) for path, _, _ in files]
