"""Owns the command line the engine calls as a subprocess:

  python -m strand_jax facts --model DIR
  python -m strand_jax train-lora --job JOB.json [--host-devices N] [--exit-with-stdin]   (lora_trainer.py)
  python -m strand_jax worker        (on a TPU VM host: STRAND_JOB, STRAND_WORKER_INDEX; see worker.py)
  python -m strand_jax preflight     (one PreflightRequest per stdin line, one answer per stdout line;
                                      preflight.py, preflight.schema.json)
  python -m strand_jax embed --model DIR --tokens SHARD.arrow... --out DIR --mesh 2,2,2 --per-device-batch N
                             [--adapters PEFT_DIR]
                             [--precision fp32|bf16] [--pooling mean|cls|max] [--no-include-cls] [--normalize]
                             [--pad-id 1] [--prefix 1] [--max-length N] [--host-devices N] [--exit-with-stdin]

`embed` writes one vector shard per token shard (same file name) into --out, printing one JSON line
`{"kind": "shard-done", "index", "file", "sequences"}` on stdout as each is durable (so the engine records it
before the next one starts: a killed run resumes after it), and one JSON summary as the last line.
Exit codes: 0 ok, 1 failure (bad model, data or mesh: message on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m strand_jax", description="Strand's JAX runtime for Nucleotide Transformer"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    facts = commands.add_parser("facts", help="print the model facts of a Hugging Face folder as JSON")
    facts.add_argument("--model", required=True, help="folder with config.json")
    commands.add_parser("worker", help="run this host's shards of a remote embed/nt step (worker contract)")
    train = commands.add_parser(
        "train-lora", help="LoRA fine-tuning with the taxonomy head (a job file; lora_trainer.py)"
    )
    train.add_argument("--job", required=True, help="the job, as JSON (written by the finetune/nt-lora step)")
    train.add_argument("--host-devices", type=int, help="on CPU, split the host into N XLA devices (sets XLA_FLAGS)")
    train.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin closes")
    commands.add_parser(
        "preflight", help="compile programs for a TPU topology from shapes (JSON lines: requests in, answers out)"
    )
    embed = commands.add_parser("embed", help="embed token shards into vector shards")
    embed.add_argument(
        "--model", required=True, help="Hugging Face folder: config.json + model.safetensors or pytorch_model.bin"
    )
    embed.add_argument("--tokens", required=True, nargs="+", help="token shards (Arrow IPC files with id, tokens)")
    embed.add_argument("--out", required=True, help="folder for the vector shards (created)")
    embed.add_argument("--mesh", default="1,1,1", help="data,fsdp,tp (default 1,1,1)")
    embed.add_argument("--per-device-batch", type=int, default=8)
    embed.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    embed.add_argument("--pooling", choices=("mean", "cls", "max"), default="mean")
    embed.add_argument("--include-cls", action=argparse.BooleanOptionalAction, default=True)
    embed.add_argument("--normalize", action="store_true")
    embed.add_argument("--pad-id", type=int, default=1, help="the tokenizer's pad id (tokens artifact meta pad_id)")
    embed.add_argument(
        "--prefix", type=int, default=1, help="leading special tokens per row (tokens artifact meta prefix)"
    )
    embed.add_argument("--adapters", help="a peft LoRA folder (adapter_config.json + adapter_model.safetensors)")
    embed.add_argument("--max-length", type=int, help="longest row expected; sets the last length bucket")
    embed.add_argument("--host-devices", type=int, help="on CPU, split the host into N XLA devices (sets XLA_FLAGS)")
    embed.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="exit when stdin closes (the engine holds it open: a killed engine leaves no orphan)",
    )
    return parser


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _exit_when_stdin_closes() -> None:
    import threading

    # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside a buffered reader's lock
    # aborts the interpreter at shutdown.
    def watch() -> None:
        while os.read(0, 4096):
            pass
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "exit_with_stdin", False):
        _exit_when_stdin_closes()
    if args.command == "worker":
        from .worker import main as worker_main

        return worker_main(dict(os.environ))
    if args.command == "preflight":
        from .preflight_cli import answer_requests

        return answer_requests(sys.stdin, sys.stdout)
    if getattr(args, "host_devices", None):
        # Must precede the first jax import; the flag only affects the CPU platform.
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={args.host_devices}".strip()

    from .checkpoint import load_model
    from .config import ModelConfigError, model_facts
    from .params import CheckpointError
    from .sharding import MeshError

    try:
        if args.command == "facts":
            print(json.dumps(model_facts(args.model), sort_keys=True))
            return 0
        if args.command == "train-lora":
            from .lora_trainer import main as train_main

            return train_main(args.job)
        return _embed(args, load_model)
    except (ModelConfigError, CheckpointError, MeshError, ValueError, OSError) as error:
        return _fail(str(error))


def _embed(args, load_model) -> int:
    import jax

    from .arrow_shards import read_token_shard, write_vector_shard
    from .embedder import Embedder
    from .merge_windows import merge_windows
    from .pooling import PoolingRule
    from .sharding import MeshSpec

    started = time.perf_counter()
    spec = MeshSpec.parse(args.mesh)
    config, params = load_model(args.model)
    rule = PoolingRule(args.pooling, args.include_cls, args.prefix, args.normalize)
    shards = [(Path(p), *read_token_shard(p)) for p in args.tokens]
    if args.pad_id != config.pad_token_id:
        return _fail(f"tokens are padded with {args.pad_id}, the model's pad_token_id is {config.pad_token_id}")
    longest = max((len(r) for _, _, rows in shards for r in rows), default=1)
    adapters = None
    if args.adapters:
        from .export_peft import read_peft_adapters

        adapters = read_peft_adapters(args.adapters, config)
    embedder = Embedder(
        config, params, spec, args.per_device_batch, args.precision, rule, args.max_length or longest, adapters=adapters
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sequences = rows_total = tokens = 0
    for index, (path, ids, rows) in enumerate(shards):
        vectors = embedder.embed(rows)
        merged_ids, merged = merge_windows(ids, vectors, rule.normalize)
        write_vector_shard(out / path.name, merged_ids, merged)
        done = {"kind": "shard-done", "index": index, "file": str(out / path.name), "sequences": len(merged_ids)}
        print(json.dumps(done, sort_keys=True), flush=True)
        sequences += len(merged_ids)
        rows_total += len(rows)
        tokens += int(sum(len(r) for r in rows))
    summary = {
        "kind": "embed-summary",
        "sequences": sequences,
        "rows": rows_total,
        "tokens": tokens,
        "dim": config.hidden_size,
        "family": config.family,
        "precision": args.precision,
        "mesh": {"data": spec.data, "fsdp": spec.fsdp, "tp": spec.tp},
        "platform": jax.devices()[0].platform,
        "devices": len(jax.devices()),
        "global_batch": embedder.batch_size,
        "buckets": list(embedder.buckets),
        "compilations": embedder.stats.programs,
        "compile_seconds": round(embedder.stats.seconds, 3),
        "compiled": [
            {"bucket": width, "seconds": round(seconds, 3)}
            for (_, width), seconds in zip(embedder.stats.shapes, embedder.stats.times, strict=True)
        ],
        "seconds": round(time.perf_counter() - started, 3),
        "shards": [str(out / p.name) for p, _, _ in shards],
    }
    print(json.dumps(summary, sort_keys=True))
    return 0
