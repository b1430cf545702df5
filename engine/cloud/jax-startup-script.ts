// Owns the startup script of a node that runs a JAX step (`embed/nt`): on a stock TPU VM image (Python, no
// Node.js) it fetches the staged runtime bundle from the bucket by content (jax-runtime-bundle.ts: every file
// checked with sha256sum), installs the pinned runtime into a fresh venv (uv, Python 3.11, then
// requirements-tpu.txt with --require-hashes: jax[tpu] and libtpu come from PyPI, so the VM needs egress),
// and runs `python -m strand_jax worker` — the same worker contract as `strand worker`. Pure.
//
// On a multi-host slice the script either keeps each host's JAX alone on its chips (one program per host: a
// shard-parallel job) or leaves libtpu the whole slice (one program over every host: a training job, which
// joins it with jax.distributed; docs/tpu.md "Multi-host training"). Per host it always isolates its scratch
// folder and runtime venv; it never sets the coordinator, which JAX reads from the slice's metadata.
//
// STRAND_RUNTIME_PYTHON, when set (a custom image that has the locked runtime, or the tests' local venv),
// skips the venv: the staged strand_jax source still comes from the bucket and is what runs.
import { EMULATOR_ENV } from './cloud-settings.js';
import { NODE_METADATA, WORKER_ENV } from './worker-contract.js';
import type { GcsLocation } from './gcs-uri.js';
import type { Sha256Hex } from '../util/sha256.js';

/** The uv release the script installs to create the venv (the one runtime/jax/find-uv.sh pins; a test keeps them equal). */
export const UV_VERSION = '0.13.8';
export const RUNTIME_PYTHON_ENV = 'STRAND_RUNTIME_PYTHON';

export interface JaxStartupOptions {
  bucket: GcsLocation;
  /** Digest of the runtime bundle's manifest (an object under objects/). */
  manifest: Sha256Hex;
  /** Hosts and the chips on each; with more than one host and not `oneProgram`, each host's JAX runs alone on its own chips. */
  hosts: number;
  chipsPerHost: number;
  /** The hosts run one JAX program over the whole slice (jax.distributed): libtpu sees every host's chips. */
  oneProgram: boolean;
}

/** `TPU_CHIPS_PER_PROCESS_BOUNDS` for a host's chips (libtpu's x,y,z): 4 chips are 2x2, 8 are 2x4. */
export function chipBounds(chips: number): string {
  return chips >= 8 ? '2,4,1' : chips >= 4 ? '2,2,1' : chips === 2 ? '1,2,1' : '1,1,1';
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function jaxStartupScript(options: JaxStartupOptions): string {
  const objectPrefix = options.bucket.prefix ? `${options.bucket.prefix}/objects/` : 'objects/';
  const objectsPath = `/storage/v1/b/${encodeURIComponent(options.bucket.bucket)}/o/${encodeURIComponent(objectPrefix)}`;
  // One program per host (docs/tpu.md "Multi-host slices"): libtpu on a host of a multi-host slice would otherwise
  // wait for every host to join one runtime. These are libtpu's variables for a process alone on its chips.
  const alone =
    options.hosts > 1 && !options.oneProgram
      ? [
          "# One JAX program per host: this host's chips only, no slice-wide runtime.",
          `export TPU_CHIPS_PER_PROCESS_BOUNDS=${chipBounds(options.chipsPerHost)} TPU_PROCESS_BOUNDS=1,1,1`,
          `export TPU_VISIBLE_CHIPS=${Array.from({ length: options.chipsPerHost }, (_, i) => i).join(',')} CLOUD_TPU_TASK_ID=0`,
          'export TPU_PROCESS_ADDRESSES=localhost:8476 TPU_PROCESS_PORT=8476',
        ]
      : [];
  // A local storage server (the tests'), by the engine's names in the engine's order; else Google's.
  const storageEndpoint = EMULATOR_ENV.storage.reduceRight(
    (otherwise, name) => `\${${name}:-${otherwise}}`,
    'https://storage.googleapis.com',
  );
  return [
    '#!/bin/bash',
    '# Strand JAX worker launcher: see docs/tpu.md, "Worker contract" and "The JAX worker on a TPU VM".',
    'set -euo pipefail',
    'meta() { curl -sf -H \'Metadata-Flavor: Google\' "http://metadata.google.internal/computeMetadata/v1/instance/$1"; }',
    `export ${WORKER_ENV.job}="\${${WORKER_ENV.job}:-$(meta attributes/${NODE_METADATA.job})}"`,
    `export ${WORKER_ENV.index}="\${${WORKER_ENV.index}:-$(meta attributes/agent-worker-number)}"`,
    `manifest=${options.manifest}`,
    `objects=${quote(objectsPath)}`,
    `api="${storageEndpoint}"`,
    '[[ "$api" == http* ]] || api="http://$api"',
    'auth=()',
    `if [[ -z "${EMULATOR_ENV.storage.map((name) => `\${${name}:-}`).join('')}" ]]; then`,
    '  token="$(meta service-accounts/default/token | python3 -c \'import json, sys; print(json.load(sys.stdin)["access_token"])\')"',
    '  auth=(-H "Authorization: Bearer $token")',
    'fi',
    '# fetch DIGEST FILE: the object objects/DIGEST, kept only if its SHA-256 is DIGEST.',
    'fetch() {',
    '  mkdir -p "$(dirname "$2")"',
    '  curl -sf --retry 6 --retry-all-errors "${auth[@]}" "$api$objects$1?alt=media" -o "$2"',
    '  echo "$1  $2" | sha256sum -c --quiet -',
    '}',
    'runtime="$(mktemp -d /tmp/strand-runtime.XXXXXX)"',
    'cd "$runtime"',
    'fetch "$manifest" MANIFEST',
    'while read -r digest path; do fetch "$digest" "$path"; done < MANIFEST',
    `if [[ -n "\${${RUNTIME_PYTHON_ENV}:-}" ]]; then`,
    `  python="$${RUNTIME_PYTHON_ENV}"`,
    'else',
    '  export UV_CACHE_DIR="$runtime/uv-cache" UV_PYTHON_INSTALL_DIR="$runtime/python"',
    `  python3 -m pip install --quiet --disable-pip-version-check --target "$runtime/uv" uv==${UV_VERSION}`,
    '  PYTHONPATH="$runtime/uv" "$runtime/uv/bin/uv" venv --quiet --python 3.11 "$runtime/venv"',
    '  PYTHONPATH="$runtime/uv" "$runtime/uv/bin/uv" pip install --quiet --python "$runtime/venv/bin/python" --require-hashes --no-deps -r requirements-tpu.txt',
    '  python="$runtime/venv/bin/python"',
    'fi',
    ...alone,
    'export PYTHONPATH="$runtime/src"',
    'echo "strand: running the staged strand_jax (manifest $manifest) with $python"',
    'exec "$python" -m strand_jax worker',
    '',
  ].join('\n');
}
