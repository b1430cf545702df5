#!/usr/bin/env bash
# `npm run setup:jax`: creates or updates runtime/jax/.venv from uv.lock with the runtime's dependencies
# (jax, jaxlib, numpy, safetensors, pyarrow, jsonschema; about 700 MB), which is all `embed/nt` on a JAX
# device needs, and the preflight group (libtpu, ~210 MB more: `strand plan` compiles TPU steps with it). `--inexact` keeps the test group if run-tests.sh installed it. On a machine with
# accelerators, add the plugin to the same venv: `.venv/bin/pip install "jax[tpu]==0.10.2"` or
# `"jax[cuda12]==0.10.2"` (see `strand doctor`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
source "$here/find-uv.sh"
"$uv" sync --frozen --quiet --no-default-groups --group preflight --inexact
echo "JAX runtime ready: $here/.venv/bin/python (check with: npx strand doctor)"
