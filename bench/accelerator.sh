#!/usr/bin/env bash
# One command on a machine with an NVIDIA GPU (about 10 minutes; needs ~12 GB of disk for NT-2.5B's random
# weights): install, add JAX's CUDA plugin to the runtime's venv, and run bench/accelerator.ts, which embeds
# with embed/nt through `strand run` at several per-device batches and lengths and prints sequences/s,
# tokens/s, MFU and peak device memory against the plan. Arguments go to accelerator.ts (e.g. --batches 16,64).
# PEAK_FLOPS_PER_DEVICE (bf16 FLOP/s of one GPU; H100 SXM 989e12, H200 989e12) turns on the MFU column.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
npm run setup:jax
jax_version="$(runtime/jax/.venv/bin/python -c 'import jax; print(jax.__version__)')"
source runtime/jax/find-uv.sh
"$uv" pip install --python runtime/jax/.venv/bin/python "jax[cuda12]==${jax_version}"
node dist/engine/cli/main.js doctor
node dist/bench/accelerator.js "$@"
