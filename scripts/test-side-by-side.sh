#!/usr/bin/env bash
# `npm test`'s last part: the TypeScript suite (vitest) and the Python suite (runtime/jax/run-tests.sh: ruff,
# mypy, pytest) side by side, not one after the other. Both spend much of their time waiting on child processes
# (the CLI, JAX, XLA compiles), and a suite's last files leave cores idle that the other suite can use.
# vitest prints as it goes; the Python suite's output is kept in a file and printed when both have ended.
# Exits non-zero when either suite failed, naming it. Arguments go to vitest.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python_log="$(mktemp)"
bash runtime/jax/run-tests.sh >"$python_log" 2>&1 &
python_suite=$!
trap 'kill "$python_suite" 2>/dev/null; rm -f "$python_log"' EXIT
npx vitest run "$@"
vitest_status=$?
wait "$python_suite"
python_status=$?
echo
echo "── Python suite (runtime/jax/run-tests.sh) ──"
cat "$python_log"
if ((vitest_status != 0)); then echo "the TypeScript suite (vitest) failed: exit $vitest_status" >&2; fi
if ((python_status != 0)); then echo "the Python suite (runtime/jax/run-tests.sh) failed: exit $python_status" >&2; fi
((vitest_status == 0 && python_status == 0))
