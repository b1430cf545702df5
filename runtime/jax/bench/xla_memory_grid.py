"""Regenerates the committed table of XLA's memory answers (bench/xla-memory-grid.json) that the placement
formula is checked against (test/unit/xla-memory-grid.test.ts: within 25% on every row).

    python bench/xla_memory_grid.py OUT.json [--rows N]

Each row compiles one program (the pre-flight's own `Target.measure`: `embed-forward` or `train-step`, from
shapes alone, for a TPU topology with libtpu and no TPU) for NT v1 and v2 shapes from 50M to 2.5B
parameters, and records XLA's answer: its per-device figures when it compiled, or the temporaries it asked
for when it refused (RESOURCE_EXHAUSTED), with the per-device argument bytes beside them so a refusal's
total is comparable. Rows already in OUT.json are kept (the run resumes where it stopped); takes about an
hour on 2 cores, so run it in the background.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

from strand_jax.compiler_stack import reexec_with_unlimited_stack

reexec_with_unlimited_stack()

from strand_jax.config import parse_model_config  # noqa: E402
from strand_jax.params import param_shapes  # noqa: E402
from strand_jax.pooling import PoolingRule  # noqa: E402
from strand_jax.preflight import Target  # noqa: E402
from strand_jax.preflight_programs import PROGRAMS, ProgramRequest, parameter_structs  # noqa: E402
from strand_jax.sharding import MeshSpec, make_mesh  # noqa: E402
from strand_jax.tpu_topology import build_topology  # noqa: E402

# The published Nucleotide Transformer shapes (bench/nt-configs.json, shared with the TypeScript benches).
MODELS = json.loads((Path(__file__).resolve().parents[3] / "bench/nt-configs.json").read_text())["models"]
TRAIN_OPTIONS = json.loads((Path(__file__).parent.parent / "tests/nt_lora_default_options.json").read_text())


def row(model, program, topology, mesh, precision, batch, length, hosts=1):
    return {
        "model": model,
        "program": program,
        "topology": topology,
        "hosts": hosts,
        "mesh": dict(zip(("data", "fsdp", "tp"), mesh, strict=True)),
        "precision": precision,
        "per_device_batch": batch,
        "length": length,
    }


def grid() -> list[dict]:
    rows = []
    one = (1, 1, 1)
    for model in MODELS:
        for batch in (8, 64, 512):
            for length in (128, 1000):
                rows.append(row(model, "embed-forward", "v5e:1x1", one, "bf16", batch, length))
        for batch, length in ((8, 128), (32, 1000)):
            rows.append(row(model, "train-step", "v5e:1x1", one, "bf16", batch, length))
    for model in ("nt-v2-50m", "nt-v2-500m", "nt-v1-2.5b"):
        rows.append(row(model, "embed-forward", "v5e:1x1", one, "fp32", 16, 1000))
        rows.append(row(model, "embed-forward", "v6e:1x1", one, "bf16", 128, 1000))
        rows.append(row(model, "train-step", "v6e:1x1", one, "bf16", 16, 512))
        rows.append(row(model, "train-step", "v5e:1x1", one, "fp32", 8, 256))
    for model in ("nt-v1-500m", "nt-v1-2.5b"):
        rows.append(row(model, "embed-forward", "v5e:2x2", (1, 4, 1), "bf16", 64, 1000))
        rows.append(row(model, "train-step", "v5e:2x2", (1, 4, 1), "bf16", 16, 1000))
        rows.append(row(model, "embed-forward", "v6e:2x2", (2, 1, 2), "bf16", 32, 1000))
        # A two-host v5litepod-16: each host compiles its own 2x4 program over its 8 chips.
        rows.append(row(model, "embed-forward", "v5e:2x4", (8, 1, 1), "bf16", 32, 1000, hosts=2))
    # Meshes and hosts before the single-chip extras; the slowest compiles (NT-2.5B train steps, minutes each on
    # 2 cores) last: a stopped run has the variety.
    return sorted(
        rows,
        key=lambda r: (
            r["model"] == "nt-v1-2.5b" and r["program"] == "train-step",
            r["mesh"] == {"data": 1, "fsdp": 1, "tp": 1},
        ),
    )


def argument_bytes(config, topology, mesh, precision) -> int:
    """Per-device bytes of the parameters (the arguments that matter) under their shardings."""
    from strand_jax.embedder import PRECISIONS

    structs = parameter_structs(config, make_mesh(mesh, topology.devices), PRECISIONS[precision])
    total = 0
    stack = [structs]
    while stack:
        for value in stack.pop().values():
            if isinstance(value, dict):
                stack.append(value)
            else:
                total += math.prod(value.sharding.shard_shape(value.shape)) * value.dtype.itemsize
    return total


def measure(spec: dict) -> dict:
    config = parse_model_config(MODELS[spec["model"]])
    topology = build_topology(spec["topology"])
    mesh = MeshSpec(**spec["mesh"])
    options = TRAIN_OPTIONS if spec["program"] == "train-step" else {}
    request = ProgramRequest(spec["precision"], PoolingRule("mean", True, 1, False), options)
    target = Target(spec["program"], topology, config, request, None)
    started = time.perf_counter()
    result = target.measure(mesh, spec["per_device_batch"], spec["length"])
    answer = {"fits": result["fits"], "compile_seconds": round(time.perf_counter() - started, 1)}
    if "memory" in result:
        answer["memory"] = result["memory"]
    else:
        answer["xla"] = result["xla"]
        answer["parameter_bytes"] = argument_bytes(config, topology, mesh, spec["precision"])
    return spec | {
        "model_config": MODELS[spec["model"]],
        "answer": answer,
        "device_kind": topology.device_kind,
    }


def parameters(model: str) -> int:
    """The model's parameter count (what a plan reads from the safetensors header of a real folder)."""
    stack, total = [param_shapes(parse_model_config(MODELS[model]))], 0
    while stack:
        for value in stack.pop().values():
            if isinstance(value, dict):
                stack.append(value)
            else:
                total += math.prod(value)
    return total


def key(spec: dict) -> str:
    return json.dumps(
        {k: spec[k] for k in ("model", "program", "topology", "mesh", "precision", "per_device_batch", "length")},
        sort_keys=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=None, help="stop after this many new rows")
    args = parser.parse_args()
    out = Path(args.out)
    table = json.loads(out.read_text()) if out.exists() else {"rows": []}
    for r in table["rows"]:
        r["parameters"] = parameters(r["model"])
    done = {key(r) for r in table["rows"]}
    added = 0
    for spec in grid():
        if key(spec) in done or (args.rows is not None and added >= args.rows):
            continue
        assert spec["program"] in PROGRAMS
        try:
            measured = measure(spec)
        except Exception as error:  # a compile that neither answered nor refused: recorded, never silent
            measured = spec | {"answer": {"error": str(error).splitlines()[0]}}
        measured["parameters"] = parameters(spec["model"])
        table["rows"].append(measured)
        added += 1
        print(
            json.dumps(
                {k: measured[k] for k in ("model", "program", "topology", "precision", "per_device_batch", "length")}
                | {"answer": measured["answer"]}
            ),
            file=sys.stderr,
            flush=True,
        )
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
        tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
