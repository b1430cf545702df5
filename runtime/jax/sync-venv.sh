#!/usr/bin/env bash
# Creates or reuses runtime/jax/.venv from uv.lock with the runtime and its test group (uv sync --frozen, no
# manual pip step) and prints the uv it used. Used by the TypeScript tests that run the JAX worker
# (test/helpers/jax-runtime.ts); `npm run setup:jax` (setup.sh) installs the runtime alone.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
source "$here/find-uv.sh"
"$uv" sync --frozen --quiet
echo "$uv"
