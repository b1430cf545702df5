"""Owns the command line the engine calls as a subprocess:

  python -m strand_jax run RUN.json [--exit-with-stdin]
                                     (a LocalRun, jax_job.schema.json: an embed or train job and this
                                      machine's paths; JSON lines on stdout, local_run.py)
  python -m strand_jax facts --model DIR
  python -m strand_jax worker        (on a TPU VM host: STRAND_JOB, STRAND_WORKER_INDEX; see worker.py)
  python -m strand_jax preflight     (one PreflightRequest per stdin line, one answer per stdout line;
                                      preflight.py, preflight.schema.json)
  python -m strand_jax wandb-log     (a WandbLog stdin line, then WandbRow lines: a W&B run for a step
                                      trained in TypeScript; wandb_run.py, jax_job.schema.json)

Exit codes: 0 ok, 1 failure (a bad job, model, data or mesh, or a platform JAX does not see: one line
`error: ...` on stderr), 2 usage; 3 when --exit-with-stdin saw stdin close.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m strand_jax", description="Strand's JAX runtime for Nucleotide Transformer"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a JAX job on this machine (a LocalRun file: the job and its paths)")
    run.add_argument("run", metavar="RUN.json", help="the job and this machine's paths (jax_job.schema.json LocalRun)")
    run.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="exit when stdin closes (the engine holds it open: a killed engine leaves no orphan)",
    )
    facts = commands.add_parser("facts", help="print the model facts of a Hugging Face folder as JSON")
    facts.add_argument("--model", required=True, help="folder with config.json")
    commands.add_parser("worker", help="run this host's part of a remote JAX job (worker contract)")
    commands.add_parser(
        "preflight", help="compile programs for a TPU topology from shapes (JSON lines: requests in, answers out)"
    )
    commands.add_parser("wandb-log", help="log metrics rows from stdin to a W&B run (JSON lines)")
    return parser


def _fail(message: str, hint: str | None = None) -> int:
    # One write: a thread's log line cannot land between the error and its hint.
    sys.stderr.write(f"error: {message}\n" + (f"hint: {hint}\n" if hint is not None else ""))
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


def _emit(event: dict) -> None:
    print(json.dumps(event, sort_keys=True), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "worker":
        from .compiler_stack import reexec_with_unlimited_stack
        from .worker import main as worker_main

        # libtpu compiles this host's programs for its real chips: the same deep recursion as the pre-flight's.
        if argv is None:
            reexec_with_unlimited_stack()
        return worker_main(dict(os.environ))
    if args.command == "preflight":
        from .compiler_stack import reexec_with_unlimited_stack
        from .preflight_cli import answer_requests

        if argv is None:  # a process of its own (not called in-process by a test)
            reexec_with_unlimited_stack()
        return answer_requests(sys.stdin, sys.stdout)
    if args.command == "wandb-log":
        from .wandb_run import log_from_lines

        try:
            _emit(log_from_lines(sys.stdin, _emit))
        except (ValueError, OSError) as error:
            return _fail(str(error))
        return 0
    if args.command == "facts":
        from .config import ModelConfigError, model_facts

        try:
            _emit(model_facts(args.model))
        except (ModelConfigError, OSError) as error:
            return _fail(str(error))
        return 0
    if args.exit_with_stdin:
        _exit_when_stdin_closes()
    # No JAX import before the run's placement has set how JAX starts (local_run.run_local).
    from .job import PlatformError
    from .local_run import read_local_run, run_local

    try:
        _emit(run_local(read_local_run(args.run), _emit))
    except json.JSONDecodeError as error:
        return _fail(f"{args.run} is not JSON: {error}")
    except (PlatformError, ValueError, OSError) as error:
        # ValueError covers the job's schema (JaxJobError), the mesh (MeshError), the model's config and
        # weights (ModelConfigError, CheckpointError), the shards (ShardError) and the LoRA settings; a
        # training that diverged (TrainingDiverged) says how to fix it.
        return _fail(str(error), getattr(error, "hint", None))
    return 0
