"""Owns joining a multi-host slice's one JAX program (`jax.distributed`) for a training job: every host of
the slice runs the same SPMD program over all hosts' devices, host `STRAND_WORKER_INDEX` as process of the
same number. Call before anything asks JAX for its devices.

Where the coordinator is: on a Cloud TPU VM, `jax.distributed.initialize()` reads it (and the process count
and index) from the slice's metadata, so the startup script sets nothing. Elsewhere (the local TPU server's
stand-in hosts: local processes on XLA CPU devices) the host's environment names it (`STRAND_COORDINATOR`,
host:port, host 0 listens there) and the process count and index come from the job spec and
`STRAND_WORKER_INDEX`. On CPU devices the cross-process collectives are gloo's (TCP).
"""

from __future__ import annotations

from collections.abc import Mapping

from .worker_contract import WORKER_ENV


class SliceError(RuntimeError):
    """This host cannot join the slice's program as the host it is."""


def join_slice(env: Mapping[str, str], workers: int, index: int, platform: str) -> None:
    """Joins the slice's one program as process `index` of `workers` (nothing to join for one host)."""
    if workers == 1:
        return
    import jax

    if platform == "cpu":
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    coordinator = env.get(WORKER_ENV["coordinator"])
    if coordinator:
        jax.distributed.initialize(coordinator_address=coordinator, num_processes=workers, process_id=index)
    else:
        jax.distributed.initialize()
    if jax.process_count() != workers or jax.process_index() != index:
        raise SliceError(
            f"host {index} of {workers} joined the slice's program as process {jax.process_index()} of "
            f"{jax.process_count()}; {WORKER_ENV['index']} must be the host's agent-worker-number"
        )


def is_primary() -> bool:
    """Whether this process writes what the slice writes once (checkpoints, outputs): process 0."""
    import jax

    return jax.process_index() == 0
