"""bench/lora (Python half): the trainable fraction of LoRA on NT shapes, computed from the shapes alone, and
train steps per second of the tiny NT (models/tiny-nt) on 1, 2, 4 and 8 XLA CPU devices (mesh data=N, per-device
batch 16 / N so the global batch is the same 16 rows of 128 tokens, grad_accum 1, remat full, fp32).

  runtime/jax/.venv/bin/python runtime/jax/bench/lora.py fraction
  runtime/jax/.venv/bin/python runtime/jax/bench/lora.py steps DEVICES       (one process per device count)
  runtime/jax/.venv/bin/python runtime/jax/bench/lora.py steps 8 PROCESSES INDEX HOST:PORT
                                                 (one of PROCESSES processes, each with 8 / PROCESSES devices,
                                                  joined as one program by jax.distributed: a multi-host slice)
  runtime/jax/.venv/bin/python runtime/jax/bench/lora.py memory              (NT-2.5B train step, 8 CPU devices)

`memory` compiles the NT-2.5B train step (r=16 query/value, bf16, remat full, per-device batch 4 x 256 tokens)
from shapes alone on 8 XLA *CPU* devices and reports XLA:CPU's memory analysis per device: the CPU backend's
figure, not a TPU's (that needs libtpu's deviceless compile: the compile pre-flight).

Prints one JSON line. Step time is the median of 5 steps after 2 warm-up steps (compilation excluded).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

# InstaDeepAI/nucleotide-transformer-2.5b-multi-species config.json (v1: learned positions, GELU with biases).
NT_2_5B = json.loads((REPO / "bench/nt-configs.json").read_text())["models"]["nt-v1-2.5b"]


def fraction() -> dict:
    from strand_jax.config import parse_model_config
    from strand_jax.lora import LoraSettings, adapter_parameter_count

    config = parse_model_config(NT_2_5B)
    out = {"kind": "fraction", "base_parameters": config.parameter_count}
    for name, targets in (("qv", ("query", "value")), ("qkvo", ("query", "key", "value", "attention_output"))):
        lora = adapter_parameter_count(config, LoraSettings(rank=16, targets=targets))
        out[name] = {"adapters": lora, "fraction_of_base": lora / config.parameter_count}
    return out


def steps(devices: int, processes: int = 1, index: int = 0, coordinator: str = "") -> dict:
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices // processes}"
    os.environ["JAX_PLATFORMS"] = "cpu"
    import time

    import jax
    import numpy as np

    from strand_jax.distributed import join_slice

    join_slice({"STRAND_COORDINATOR": coordinator}, processes, index, "cpu")

    from strand_jax.checkpoint import load_model
    from strand_jax.lora import LoraSettings
    from strand_jax.sharding import MeshSpec, make_mesh
    from strand_jax.taxonomy_head import HeadSpec
    from strand_jax.train_step import TrainSettings, build_train_program

    config, params = load_model(REPO / "models" / "tiny-nt")
    program = build_train_program(
        config,
        LoraSettings(),
        TrainSettings(total_steps=100, warmup_steps=2),
        HeadSpec(config.hidden_size, 128, (2, 10, 20, 40, 80, 120, 160), (2.0, 1.8, 1.5, 1.2, 1.0, 0.8, 0.6)),
        make_mesh(MeshSpec(data=devices)),
        16 // devices,
        128,
    )
    base = jax.device_put(params, program.base_shardings)
    state = program.init_state()
    rng = np.random.default_rng(0)
    ids = rng.integers(6, 4000, size=(1, 16, 128)).astype(np.int32)
    labels = rng.integers(0, 2, size=(1, 16, 7)).astype(np.int32)
    batch = jax.device_put(
        {"input_ids": ids, "attention_mask": np.ones_like(ids), "labels": labels}, program.batch_sharding
    )
    times = []
    for i in range(7):
        started = time.perf_counter()
        state, metrics = program.step(base, state, batch)
        jax.block_until_ready(metrics["loss"])
        if i >= 2:
            times.append(time.perf_counter() - started)
    seconds = float(np.median(times))
    return {
        "kind": "steps",
        "devices": devices,
        "processes": processes,
        "seconds_per_step": seconds,
        "steps_per_second": 1 / seconds,
    }


def memory() -> dict:
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    os.environ["JAX_PLATFORMS"] = "cpu"
    from strand_jax.config import parse_model_config
    from strand_jax.lora import LoraSettings
    from strand_jax.sharding import MeshSpec, make_mesh
    from strand_jax.taxonomy_head import HeadSpec
    from strand_jax.train_step import TrainSettings, build_train_program

    config = parse_model_config(NT_2_5B)
    out = {"kind": "memory", "meshes": []}
    for spec in (MeshSpec(1, 8, 1), MeshSpec(1, 4, 2)):
        program = build_train_program(
            config,
            LoraSettings(),
            TrainSettings(total_steps=1000, precision="bf16"),
            HeadSpec(2560, 128, (2, 10, 30, 60, 150, 400, 900), (2.0, 1.8, 1.5, 1.2, 1.0, 0.8, 0.6)),
            make_mesh(spec),
            4,
            256,
        )
        m = program.step.lower(*program.abstract_args()).compile().memory_analysis()
        total = m.argument_size_in_bytes + m.output_size_in_bytes - m.alias_size_in_bytes + m.temp_size_in_bytes
        out["meshes"].append({"mesh": f"{spec.data}x{spec.fsdp}x{spec.tp}", "per_device_gib": total / 2**30})
    return out


def tpu_memory(topology: str, fsdp: int, tp: int) -> dict:
    """The same train step through the compile pre-flight (libtpu, no TPU): per-device memory for one host of
    8 chips (v5litepod-8 = v5e:2x4, v6e-8 = v6e:2x4). Minutes per compile; libtpu may crash (see README)."""
    from strand_jax.preflight import run_preflight

    # finetune/nt-lora's defaults (r=16 on query/value, remat full), as its pre-flight sends them.
    options = json.loads((REPO / "runtime" / "jax" / "tests" / "nt_lora_default_options.json").read_text())
    answer = run_preflight(
        {
            "program": "train-step",
            "topology": topology,
            "mesh": {"data": 8 // (fsdp * tp), "fsdp": fsdp, "tp": tp},
            "batch": 4,
            "max_length": 256,
            "precision": "bf16",
            "model": {"config": NT_2_5B},
            "options": options,
            "fixes": False,
            "longest_only": True,
        }
    )
    return {"kind": "tpu-memory", **answer}


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "tpu-memory":
        print(json.dumps(tpu_memory(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        sys.exit(0)
    result = {"fraction": fraction, "memory": memory}.get(what)
    if result is None and len(sys.argv) == 6:
        print(json.dumps(steps(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])))
        sys.exit(0)
    print(json.dumps(result() if result else steps(int(sys.argv[2]))))
