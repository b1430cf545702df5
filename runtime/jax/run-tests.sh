#!/usr/bin/env bash
# Runs the JAX runtime's checks: creates or reuses runtime/jax/.venv from uv.lock (uv sync --frozen, no
# manual pip step), then ruff check, ruff format --check and pytest. uv itself, if this pinned version is
# not on PATH, is installed from PyPI into runtime/jax/.tools. pytest's conftest sets the 8 XLA CPU devices.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
UV_VERSION=0.13.8
uv=uv
if ! command -v uv >/dev/null 2>&1 || [[ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]]; then
  tools="$here/.tools/uv-$UV_VERSION"
  if [[ ! -x "$tools/bin/uv" ]]; then
    python3 -m pip install --quiet --disable-pip-version-check --target "$tools" "uv==$UV_VERSION"
  fi
  uv="$tools/bin/uv"
  export PYTHONPATH="$tools${PYTHONPATH:+:$PYTHONPATH}"
fi
"$uv" sync --frozen --quiet
"$uv" run --frozen --no-sync ruff check .
"$uv" run --frozen --no-sync ruff format --check .
"$uv" run --frozen --no-sync pytest "$@"
