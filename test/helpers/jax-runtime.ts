// Test helper: the JAX runtime's Python (runtime/jax/.venv), created from uv.lock by runtime/jax/sync-venv.sh
// when it is not there yet (`npm test` creates it first; a bare `npx vitest run` may not have it).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './project.js';

export const JAX_RUNTIME = join(REPO, 'runtime/jax');

export function jaxPython(): string {
  const python = join(JAX_RUNTIME, '.venv/bin/python');
  if (!existsSync(python)) execFileSync('bash', [join(JAX_RUNTIME, 'sync-venv.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return python;
}
