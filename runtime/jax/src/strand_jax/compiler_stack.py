"""Owns the stack limit a process that compiles XLA programs for TPUs runs with.

libtpu's emitters recurse deeply on large programs and overflow their stack (SIGSEGV, "STACK OVERFLOW"):
NT-2.5B at per-device 512, and the two-layer tiny NT at per-device 960 and 1,000 tokens on a v5e chip, where
XLA rematerialises to fit. They run on threads libtpu creates itself, whose stacks follow the process's
stack limit as it was when the process started: a thread of our own with a large stack does not reach them,
and raising the limit later does not either. Measured: the same compile dies under `ulimit -s` of 8 MiB,
256 MiB and 1 GiB, and completes with the limit unlimited. So a compiling process raises its soft limit to
unlimited (as far as the hard limit allows) and replaces itself with the same command (`os.execv`), once;
every user's process compiles as `ulimit -s unlimited` would, whatever their shell gives.
"""

from __future__ import annotations

import os
import resource
import sys

# Set in the re-executed process: it never re-executes again, whatever its limit turned out to be.
REEXECUTED = "STRAND_COMPILER_STACK_REEXECUTED"


def reexec_with_unlimited_stack() -> None:
    """Returns at once where the stack limit is already unlimited (or was raised as far as it goes); else
    raises the soft limit to the hard one and re-executes this process's own command line (never returns)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    if soft == hard or os.environ.get(REEXECUTED) == "1":
        return
    resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))
    os.environ[REEXECUTED] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, sys.orig_argv)
