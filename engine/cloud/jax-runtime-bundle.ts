// Owns what a TPU VM needs to run the JAX worker, as staged content: the `strand_jax` package's source files
// and `requirements-tpu.txt` (uv.lock's runtime closure with jax[tpu], pinned with hashes), each an object
// `objects/SHA256`, and a manifest listing them in `sha256sum` format, itself staged by content. The startup
// script fetches the manifest by its digest, then every file it lists, and checks each with `sha256sum -c`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256, type Sha256Hex } from '../util/sha256.js';

export interface BundleFile {
  /** Path under the runtime folder on the VM (`src/strand_jax/cli.py`, `requirements-tpu.txt`). */
  path: string;
  bytes: Buffer;
  digest: Sha256Hex;
}

export interface JaxRuntimeBundle {
  files: BundleFile[];
  manifest: Buffer;
  manifestDigest: Sha256Hex;
}

/** `DIGEST  PATH` lines, sorted by path: what `sha256sum -c` reads. Pure. */
export function bundleManifest(files: readonly Pick<BundleFile, 'path' | 'digest'>[]): string {
  for (const f of files)
    if (!/^[A-Za-z0-9_./-]+$/.test(f.path) || f.path.split('/').includes('..')) throw new Error(`unsafe bundle path ${f.path}`);
  return [...files]
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((f) => `${f.digest}  ${f.path}\n`)
    .join('');
}

/** The runtime folder: beside the sources (engine/cloud -> runtime/jax), or from the build (dist/engine/cloud). */
export function jaxRuntimeFolder(): string {
  const candidates = ['../../runtime/jax', '../../../runtime/jax'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const found = candidates.find((p) => existsSync(join(p, 'requirements-tpu.txt')));
  if (found === undefined)
    throw new Error(`the JAX runtime (runtime/jax) is not installed beside Strand (looked in ${candidates.join(', ')})`);
  return found;
}

/** Reads the bundle from the runtime folder: the package's .py and .json files, and the pinned requirements. */
export function loadJaxRuntimeBundle(folder = jaxRuntimeFolder()): JaxRuntimeBundle {
  const packageDir = join(folder, 'src', 'strand_jax');
  const names = readdirSync(packageDir).filter((n) => /\.(py|json)$/.test(n));
  const files = [...names.map((n) => `src/strand_jax/${n}`), 'requirements-tpu.txt'].map((path) => {
    const bytes = readFileSync(join(folder, path));
    return { path, bytes, digest: sha256(bytes) };
  });
  const manifest = Buffer.from(bundleManifest(files));
  return { files, manifest, manifestDigest: sha256(manifest) };
}
