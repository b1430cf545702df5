// Owns where the JAX runtime's folder is (runtime/jax: its sources, schemas, lock and venv), found from this
// module whether it runs from the sources or from the build.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The runtime's folder: beside the sources (engine/jax -> runtime/jax) or the build (dist/engine/jax). */
export function jaxRuntimeDir(): string {
  const candidates = ['../../runtime/jax', '../../../runtime/jax'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((p) => existsSync(join(p, 'pyproject.toml'))) ?? candidates[0]!;
}
