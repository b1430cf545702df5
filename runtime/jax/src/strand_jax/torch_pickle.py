"""Owns reading a `pytorch_model.bin` (torch's zip + pickle format) into numpy arrays without torch.

Only what a state dict holds is understood: an (Ordered)dict of tensors rebuilt from typed storages.
Any other object in the pickle is refused by name, so a checkpoint cannot run code while it is read.
"""

from __future__ import annotations

import collections
import pickle
import zipfile
from pathlib import Path

import ml_dtypes
import numpy as np


class TorchPickleError(ValueError):
    """The file is not a torch zip checkpoint holding a plain state dict."""


STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": ml_dtypes.bfloat16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name: str):
        self.dtype = np.dtype(STORAGE_DTYPES[name])


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple, *_rest) -> np.ndarray:
    if len(size) == 0:
        return storage[offset].copy()
    strides = tuple(s * storage.itemsize for s in stride)
    return np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size), strides=strides).copy()


def _rebuild_parameter(data: np.ndarray, *_rest) -> np.ndarray:
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, prefix: str):
        super().__init__(file)
        self.archive = archive
        self.prefix = prefix
        self.storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise TorchPickleError(
            f"pytorch_model.bin holds a {module}.{name}, not only tensors; convert it to model.safetensors"
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise TorchPickleError(f"pytorch_model.bin has an unsupported storage reference {pid!r:.80}")
        kind, key = pid[1], str(pid[2])
        if key not in self.storages:
            raw = self.archive.read(f"{self.prefix}data/{key}")
            self.storages[key] = np.frombuffer(raw, dtype=kind.dtype)
        return self.storages[key]


def read_torch_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise TorchPickleError(
            f"{path} is not a torch zip checkpoint (saved before torch 1.6?); convert it to model.safetensors"
        )
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if len(pickles) != 1:
            raise TorchPickleError(f"{path} has {len(pickles)} data.pkl entries, expected 1")
        prefix = pickles[0][: -len("data.pkl")]
        order = f"{prefix}byteorder"
        if order in archive.namelist() and archive.read(order).decode().strip() != "little":
            raise TorchPickleError(f"{path} was saved big-endian; convert it to model.safetensors")
        with archive.open(pickles[0]) as file:
            state = _Unpickler(file, archive, prefix).load()
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise TorchPickleError(f"{path} is not a state dict of tensors")
    return dict(state)
