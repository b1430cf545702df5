"""Owns writing TensorBoard event files without TensorFlow: TFRecord framing (length, masked CRC-32C of the
length, the record, masked CRC-32C of the record) around `Event` protocol buffers (wall_time, step, and a
`Summary` of `simple_value` scalars), encoded by hand; the first record names the file version. Every record
is flushed as written, so TensorBoard pointed at the run shows curves while it trains.
"""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for byte in data:
        c = _TABLE[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2, _varint(len(data)) + data)


def _event(wall_time: float, step: int, body: bytes) -> bytes:
    # Event: wall_time = 1 (double), step = 2 (int64), file_version = 3 / summary = 5.
    return _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step)) + body


def _scalar(tag: str, value: float) -> bytes:
    # Summary.Value: tag = 1, simple_value = 2 (float).
    return _bytes_field(1, _bytes_field(1, tag.encode()) + _field(2, 5, struct.pack("<f", value)))


class EventWriter:
    """Appends scalars to `DIR/events.out.tfevents.<time>.<host>.<pid>.<suffix>`."""

    def __init__(self, folder: str | Path, wall_time: float, suffix: str = "strand"):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"events.out.tfevents.{int(wall_time)}.{socket.gethostname()}.{os.getpid()}.{suffix}"
        self._file = open(self.path, "ab")  # noqa: SIM115 (kept open for the run; closed by close())
        self._record(_event(wall_time, 0, _bytes_field(3, b"brain.Event:2")))

    def _record(self, data: bytes) -> None:
        header = struct.pack("<Q", len(data))
        self._file.write(header + struct.pack("<I", _masked(header)) + data + struct.pack("<I", _masked(data)))
        self._file.flush()

    def scalars(self, step: int, values: dict[str, float], wall_time: float) -> None:
        summary = b"".join(_scalar(tag, float(v)) for tag, v in values.items())
        self._record(_event(wall_time, step, _bytes_field(5, summary)))

    def close(self) -> None:
        self._file.close()
