"""Owns the pre-flight of one request: compiling a registered program (preflight_programs.py) for a TPU
topology's devices from shapes alone, at every length bucket, the longest first and alone where it does not
fit (each (mesh, batch, length, precision) compiled once per process), and assembling the answer — per-device
memory or "does not fit" with XLA's own figures (preflight_memory.py), FLOPs at the longest bucket
(preflight_flops.py), the per-device batch that `batch: auto` chose and the fixes that were themselves
compiled and fit (preflight_search.py).

The batch search and fixes compile at the longest bucket (activations grow with length; the others are then
compiled at the chosen batch, unless the longest does not fit there). FLOPs are counted at the longest bucket
too.
Request and answer are `preflight.schema.json`'s PreflightRequest and PreflightAnswer.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from .config import ModelConfig, parse_model_config
from .embedder import length_limit
from .length_buckets import buckets_for
from .pooling import PoolingRule
from .preflight_flops import FLOPS_COUNTING, compiled_flops, layer_scan_flops
from .preflight_memory import fits_in_hbm, memory_figures, parse_out_of_memory
from .preflight_programs import PROGRAMS, ProgramRequest
from .preflight_search import DEFAULT_MAX_BATCH, find_fixes, fixes_fitting_every_bucket, mesh_json, search_batch
from .sharding import MeshError, MeshSpec, check_mesh_fits, make_mesh
from .tpu_topology import Topology, build_topology


class PreflightError(ValueError):
    """The request cannot be compiled at all (unknown program, a mesh that does not divide the model)."""


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
            memory = memory_figures(compiled)
            result = {
                "length": length,
                "fits": fits_in_hbm(memory, self.hbm_bytes),
                "memory": memory,
                "_rolled_flops": compiled_flops(compiled),
                "_sequences": built.sequences,
                "_repeats": built.repeats,
            }
        result["compile_seconds"] = round(time.perf_counter() - started, 3)
        self._seen[key] = result
        return result

    def flops(self, mesh: MeshSpec, batch: int, length: int) -> dict:
        """FLOPs per device for one call and per sequence, the layer scan counted as preflight_flops.py says.

        The 2-layer unrolled program keeps more buffers live than the scanned one: at the largest batch that
        fits (`batch: auto`'s answer) XLA may refuse it for memory. FLOPs are linear in the batch, so then both
        counts are taken at per-device batch 1 and scaled to `batch`."""
        measured = self.measure(mesh, batch, length)
        try:
            return self._layer_scan_flops(mesh, batch, length, measured)
        except Exception as error:
            if batch == 1 or parse_out_of_memory(str(error)) is None:
                raise
        one = self._layer_scan_flops(mesh, 1, length, self.measure(mesh, 1, length))
        per_device = one["per_sequence"] * measured["_sequences"] / mesh.size
        return {
            "per_device": per_device,
            "per_sequence": one["per_sequence"],
            "rolled_per_device": measured["_rolled_flops"],
        }

    def _layer_scan_flops(self, mesh: MeshSpec, batch: int, length: int, measured: dict) -> dict:
        layers = self.config.num_layers
        two_layers = None
        if layers > 1:
            two = dataclasses.replace(self.config, num_layers=2)
            _, compiled = self._compile(two, mesh, batch, length, True, self.request.precision)
            two_layers = compiled_flops(compiled)
        return layer_scan_flops(
            measured["_rolled_flops"], two_layers, layers, measured["_repeats"], mesh.size, measured["_sequences"]
        )


def _public(result: dict) -> dict:
    return {k: v for k, v in result.items() if not k.startswith("_")}


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
        "mesh": mesh_json(mesh),
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
    # The longest bucket first: memory grows with length, so it is the one that does not fit, or crashes the
    # compiler, if any does; a crash then comes after one compile, not after every shorter bucket's. Where it
    # does not fit, the step does not, whatever the shorter buckets say: they are not compiled (at NT-2.5B
    # scale each is most of a minute); the fixes below are compiled at every bucket.
    at_longest = target.measure(mesh, per_device, longest)
    shorter = buckets[:-1] if at_longest["fits"] else []
    measured = {length: target.measure(mesh, per_device, length) for length in reversed(shorter)}
    results = [measured[length] for length in shorter] + [at_longest]
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
        fixes = find_fixes(target.measure, config, request["precision"], mesh, per_device, longest)
        fixes = fixes_fitting_every_bucket(fixes, target.measure, mesh, per_device, buckets)
    answer["fixes"] = fixes
    answer["compilations"] = target.compilations
    answer["compile_seconds"] = round(target.compile_seconds, 3)
    return answer
