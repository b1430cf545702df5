#!/usr/bin/env bash
# Runs the JAX runtime's checks: creates or reuses runtime/jax/.venv from uv.lock (sync-venv.sh: uv sync
# --frozen, no manual pip step), then ruff check, ruff format --check and pytest. pytest's conftest sets the
# 8 XLA CPU devices.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
uv="$(bash "$here/sync-venv.sh")"
if [[ "$uv" == "$here/.tools/"* ]]; then export PYTHONPATH="$(dirname "$(dirname "$uv")")${PYTHONPATH:+:$PYTHONPATH}"; fi
"$uv" run --frozen --no-sync ruff check .
"$uv" run --frozen --no-sync ruff format --check .
"$uv" run --frozen --no-sync pytest "$@"
