# Sourced by setup.sh and run-tests.sh: sets $uv to the pinned uv, installing it from PyPI into
# runtime/jax/.tools when that version is not on PATH. Expects $here (this folder).
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
