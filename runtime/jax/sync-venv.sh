#!/usr/bin/env bash
# Creates or reuses runtime/jax/.venv from uv.lock (uv sync --frozen: the runtime and the test group, no manual
# pip step). uv itself, if this pinned version is not on PATH, is installed from PyPI into runtime/jax/.tools.
# Used by run-tests.sh and by the TypeScript tests that run the JAX worker (test/helpers/jax-runtime.ts).
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
echo "$uv"
