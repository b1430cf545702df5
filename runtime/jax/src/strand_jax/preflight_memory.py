"""Owns the pre-flight's memory figures: per-device argument, output, temporary, alias and generated-code bytes
from XLA's memory_analysis, their total (argument + output + temp - alias: a donated argument's output
shares its buffer), whether that total fits the request's HBM limit (`hbm_bytes`; without one, XLA's own
limit, which refuses at compile time), and XLA's figures parsed from a RESOURCE_EXHAUSTED compile error.
"""

from __future__ import annotations

import re
from typing import Any

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _bytes(text: str) -> int:
    number, unit = re.fullmatch(r"([\d.]+)([KMGT]?)i?B?", text).groups()  # type: ignore[union-attr]
    return round(float(number) * _UNITS[unit])


def parse_out_of_memory(message: str) -> dict | None:
    """XLA's figures from a RESOURCE_EXHAUSTED compile error; None if it is another error."""
    if "RESOURCE_EXHAUSTED" not in message:
        return None
    line = next((line for line in message.splitlines() if "RESOURCE_EXHAUSTED" in line), message)
    line = line[line.index("RESOURCE_EXHAUSTED") :].strip()
    out: dict = {"message": line}
    size = r"([\d.]+[KMGT]?i?B?)"
    required = re.search(rf"required for [^(]*\({size}\) exceeds available [^(]*\({size}\)", line) or re.search(
        rf"Used {size} of {size}", line
    )
    if required:
        out["required_bytes"] = _bytes(required.group(1))
        out["available_bytes"] = _bytes(required.group(2))
    return out


def memory_figures(compiled: Any) -> dict:
    """Per-device bytes of a compiled program, from XLA's memory_analysis, with their total."""
    stats = compiled.memory_analysis()
    memory = {
        "argument_bytes": int(stats.argument_size_in_bytes),
        "output_bytes": int(stats.output_size_in_bytes),
        "temp_bytes": int(stats.temp_size_in_bytes),
        "alias_bytes": int(stats.alias_size_in_bytes),
        "generated_code_bytes": int(stats.generated_code_size_in_bytes),
    }
    memory["total_bytes"] = (
        memory["argument_bytes"] + memory["output_bytes"] + memory["temp_bytes"] - memory["alias_bytes"]
    )
    return memory


def fits_in_hbm(memory: dict, hbm_bytes: int | None) -> bool:
    """Whether `memory_figures`' total fits `hbm_bytes`; with no limit given, what compiled fits."""
    return hbm_bytes is None or memory["total_bytes"] <= hbm_bytes
