"""Owns the pre-flight: compiling a registered program (preflight_programs.py) for a TPU topology's devices
from shapes alone, at every length bucket, and answering what XLA says — per-device argument, output and
temporary bytes (memory_analysis), FLOPs (cost_analysis), or "does not fit" with XLA's own figures when
compilation fails with RESOURCE_EXHAUSTED — plus the largest per-device batch that fits (`batch: auto`, by
doubling then bisection) and fixes that were themselves compiled and fit.

FLOPs are counted at the longest bucket. Memory search and fixes compile at the longest bucket (activations grow with length; the others are then
compiled at the chosen batch). FLOPs: XLA counts a lax.scan body once whatever its trip count, so the
layer scan's count is extrapolated: FLOPs(rolled, L layers) counts the outside plus one layer, the same
program with 2 layers unrolled counts the outside plus two, so total = rolled + (L - 1) x (two - rolled).
A loop around the layer scan (the train step's gradient accumulation, `ProgramShapes.repeats`) is counted
once too: the total is multiplied by its trips (which counts the optimizer update that many times: a few
FLOPs per trainable parameter, negligible beside the forward and backward).
Request and answer are `preflight.schema.json`'s PreflightRequest and PreflightAnswer.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass

from .config import ModelConfig, parse_model_config
from .embedder import length_limit
from .length_buckets import buckets_for
from .pooling import PoolingRule
from .preflight_programs import PROGRAMS, ProgramRequest
from .sharding import MESH_AXES, MeshError, MeshSpec, check_mesh_fits, make_mesh
from .tpu_topology import Topology, build_topology

FLOPS_COUNTING = (
    "(rolled + (layers - 1) x (2 layers unrolled - rolled)) x outer loop trips (grad_accum):"
    " XLA counts a lax.scan body once"
)
DEFAULT_MAX_BATCH = 4096
# Mesh layouts tried as fixes, at most (each is a compilation).
MAX_MESH_FIXES = 6


class PreflightError(ValueError):
    """The request cannot be compiled at all (unknown program, a mesh that does not divide the model)."""


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


_MEASURED: dict = {}


@dataclass
class Target:
    """What one request compiles for; `measure` memoises each (mesh, batch, length, precision) it compiles."""

    program: str
    topology: Topology
    config: ModelConfig
    request: ProgramRequest
    hbm_bytes: int | None
    compilations: int = 0
    compile_seconds: float = 0.0

    def __post_init__(self):
        # Shared by every request in the process: a plan's steps often ask for the same programs.
        self._seen = _MEASURED
        self._prefix = (self.program, self.topology.name, self.config, repr(self.request), self.hbm_bytes)

    def _compile(self, config: ModelConfig, mesh: MeshSpec, batch: int, length: int, unroll, precision: str):
        request = dataclasses.replace(self.request, precision=precision)
        built = PROGRAMS[self.program](request, config, make_mesh(mesh, self.topology.devices), batch, length, unroll)
        started = time.perf_counter()
        try:
            return built, built.jitted.lower(*built.args).compile()
        finally:
            self.compilations += 1
            self.compile_seconds += time.perf_counter() - started

    def measure(self, mesh: MeshSpec, batch: int, length: int, precision: str | None = None) -> dict:
        precision = precision or self.request.precision
        key = (*self._prefix, mesh, batch, length, precision)
        if key in self._seen:
            return self._seen[key]
        started = time.perf_counter()
        try:
            built, compiled = self._compile(self.config, mesh, batch, length, 1, precision)
        except Exception as error:  # XLA raises XlaRuntimeError (a RuntimeError) with the status text
            refused = parse_out_of_memory(str(error))
            if refused is None:
                raise
            result = {"length": length, "fits": False, "xla": refused}
        else:
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
            fits = self.hbm_bytes is None or memory["total_bytes"] <= self.hbm_bytes
            result = {
                "length": length,
                "fits": fits,
                "memory": memory,
                "_rolled_flops": _flops(compiled),
                "_sequences": built.sequences,
                "_repeats": built.repeats,
            }
        result["compile_seconds"] = round(time.perf_counter() - started, 3)
        self._seen[key] = result
        return result

    def flops(self, mesh: MeshSpec, batch: int, length: int) -> dict:
        """FLOPs per device for one call and per sequence, the layer scan counted as described above."""
        measured = self.measure(mesh, batch, length)
        rolled = measured["_rolled_flops"]
        layers = self.config.num_layers
        total = rolled
        if layers > 1:
            two = dataclasses.replace(self.config, num_layers=2)
            _, compiled = self._compile(two, mesh, batch, length, True, self.request.precision)
            total = rolled + (layers - 1) * (_flops(compiled) - rolled)
        total *= measured["_repeats"]
        return {
            "per_device": total,
            "per_sequence": total * mesh.size / measured["_sequences"],
            "rolled_per_device": rolled,
        }


def _flops(compiled) -> float:
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return float(cost["flops"])


def search_batch(fits, start: int = 1, limit: int = DEFAULT_MAX_BATCH) -> tuple[int | None, list[dict]]:
    """The largest batch in [start, limit] for which `fits(batch)` holds, assuming it is monotone: doubling
    from `start` to the first failure, then bisection. Returns (batch or None, every probe in order)."""
    tried: list[dict] = []

    def probe(batch: int) -> bool:
        ok = fits(batch)
        tried.append({"per_device_batch": batch, "fits": ok})
        return ok

    if not probe(start):
        return None, tried
    good, bad = start, None
    while bad is None and good < limit:
        candidate = min(good * 2, limit)
        if probe(candidate):
            good = candidate
        else:
            bad = candidate
    while bad is not None and bad - good > 1:
        middle = (good + bad) // 2
        if probe(middle):
            good = middle
        else:
            bad = middle
    return good, tried


def mesh_layouts(devices: int, config: ModelConfig) -> list[MeshSpec]:
    """Every (data, fsdp, tp) over `devices` that divides the model's dimensions."""
    out = []
    for fsdp in range(1, devices + 1):
        for tp in range(1, devices // fsdp + 1):
            if devices % (fsdp * tp) == 0:
                spec = MeshSpec(devices // (fsdp * tp), fsdp, tp)
                try:
                    check_mesh_fits(config, spec, devices)
                except MeshError:
                    continue
                out.append(spec)
    return out


def _mesh_json(spec: MeshSpec) -> dict:
    return {axis: getattr(spec, axis) for axis in MESH_AXES}


def _public(result: dict) -> dict:
    return {k: v for k, v in result.items() if not k.startswith("_")}


def find_fixes(target: Target, mesh: MeshSpec, batch: int, length: int) -> list[dict]:
    """Changes to the request that compile and fit at `length`: a smaller per-device batch, bf16, another
    mesh layout over the same devices. Each was compiled here."""
    fixes = []
    smaller, _ = (
        search_batch(lambda b: target.measure(mesh, b, length)["fits"], 1, batch - 1) if batch > 1 else (None, [])
    )
    if smaller is not None:
        fixes.append({"change": {"per_device_batch": smaller}, **_summary(target.measure(mesh, smaller, length))})
    if target.request.precision == "fp32":
        result = target.measure(mesh, batch, length, "bf16")
        if result["fits"]:
            fixes.append({"change": {"precision": "bf16"}, **_summary(result)})
    others = [m for m in mesh_layouts(mesh.size, target.config) if m != mesh]
    others.sort(key=lambda m: (abs(m.fsdp - mesh.fsdp) + abs(m.tp - mesh.tp), m.tp, m.fsdp))
    for other in others[:MAX_MESH_FIXES]:
        result = target.measure(other, batch, length)
        if result["fits"]:
            fixes.append({"change": {"mesh": _mesh_json(other)}, **_summary(result)})
    return fixes


def _summary(result: dict) -> dict:
    return {"length": result["length"], "total_bytes": result["memory"]["total_bytes"]}


def run_preflight(request: dict) -> dict:
    """Answers one PreflightRequest (already validated against the schema) with a PreflightAnswer."""
    program = request["program"]
    if program not in PROGRAMS:
        raise PreflightError(f'no pre-flight program "{program}" (known: {", ".join(sorted(PROGRAMS))})')
    config = parse_model_config(request["model"]["config"])
    pooling = request.get("pooling", {})
    rule = PoolingRule(
        pooling.get("pooling", "mean"),
        pooling.get("include_cls", True),
        pooling.get("prefix", 1),
        pooling.get("normalize", False),
    )
    topology = build_topology(request["topology"])
    mesh = MeshSpec(**request["mesh"])
    try:
        check_mesh_fits(config, mesh, len(topology.devices))
    except MeshError as error:
        raise PreflightError(str(error)) from None
    target = Target(
        program,
        topology,
        config,
        ProgramRequest(request["precision"], rule, request.get("options", {})),
        request.get("hbm_bytes"),
    )
    buckets = list(buckets_for(min(request["max_length"], length_limit(config))))
    if request.get("longest_only"):
        buckets = buckets[-1:]
    longest = buckets[-1]
    batch = request["batch"]
    answer: dict = {
        "kind": "preflight-answer",
        "program": program,
        "topology": topology.name,
        "device_kind": topology.device_kind,
        "devices": len(topology.devices),
        "mesh": _mesh_json(mesh),
        "precision": request["precision"],
    }
    if batch == "auto":
        limit = request.get("max_batch", DEFAULT_MAX_BATCH)
        chosen, tried = search_batch(lambda b: target.measure(mesh, b, longest)["fits"], 1, limit)
        answer["batch_search"] = {
            "method": "doubling then bisection at the longest bucket",
            "limit": limit,
            "tried": tried,
        }
        per_device = chosen if chosen is not None else 1
    else:
        per_device = batch
    answer["per_device_batch"] = per_device
    results = [target.measure(mesh, per_device, length) for length in buckets]
    answer["fits"] = all(r["fits"] for r in results)
    # FLOPs at the longest bucket only (what time and cost use: an upper bound per sequence); one more
    # compilation, where every bucket would double the pre-flight's time.
    if results[-1]["fits"]:
        results[-1]["flops"] = target.flops(mesh, per_device, longest)
    answer["buckets"] = [_public(r) for r in results]
    answer["flops_counting"] = FLOPS_COUNTING
    first_refused = next((r for r in results if not r["fits"]), None)
    fixes = []
    if first_refused is not None and request.get("fixes", True):
        fixes = find_fixes(target, mesh, per_device, longest)
        fixes = [
            f
            for f in fixes
            if all(
                target.measure(_fix_mesh(f, mesh), _fix_batch(f, per_device), b, f["change"].get("precision"))["fits"]
                for b in buckets
            )
        ]
    answer["fixes"] = fixes
    answer["compilations"] = target.compilations
    answer["compile_seconds"] = round(target.compile_seconds, 3)
    return answer


def _fix_mesh(fix: dict, mesh: MeshSpec) -> MeshSpec:
    return MeshSpec(**fix["change"]["mesh"]) if "mesh" in fix["change"] else mesh


def _fix_batch(fix: dict, batch: int) -> int:
    return fix["change"].get("per_device_batch", batch)
