#!/usr/bin/env bash
# Runs the JAX runtime's checks: creates or reuses runtime/jax/.venv from uv.lock (sync-venv.sh: uv sync
# --frozen, no manual pip step), then ruff check, ruff format --check, mypy (src/strand_jax, [tool.mypy]) and
# pytest. pytest's conftest sets the 8 XLA CPU devices.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
source "$here/find-uv.sh"
"$uv" sync --frozen --quiet
"$uv" run --frozen --no-sync ruff check .
"$uv" run --frozen --no-sync ruff format --check .
"$uv" run --frozen --no-sync mypy
"$uv" run --frozen --no-sync pytest "$@"
