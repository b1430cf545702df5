// Owns the pre-flight's facts on this machine: a model's config.json read from disk, the compile cache
// under the state directory (STATE/preflight), and the compiler (`python -m strand_jax preflight`).
// `compilerRuns` counts compiler processes started, which plan --json reports (a cached plan starts none).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PreflightFacts } from '../devices/preflight-placements.js';
import { jaxRuntimeDir } from '../jax/jax-runtime-dir.js';
import { runPreflight } from '../jax/run-preflight.js';
import { PreflightCache } from '../store/preflight-cache.js';
import { fail, ok } from '../util/result.js';

/** The compiler's identity: a digest of the runtime's sources and lock (a change invalidates the cache). */
function compilerDigest(): string {
  const root = jaxRuntimeDir();
  const hash = createHash('sha256');
  const src = join(root, 'src', 'strand_jax');
  const files = [
    ...readdirSync(src)
      .filter((f) => f.endsWith('.py') || f.endsWith('.json'))
      .sort()
      .map((f) => join(src, f)),
    join(root, 'uv.lock'),
  ];
  for (const file of files) {
    try {
      hash.update(file.slice(root.length)).update('\0').update(readFileSync(file)).update('\0');
    } catch {
      hash.update(file.slice(root.length)).update('\0missing\0');
    }
  }
  return hash.digest('hex');
}

export function localPreflightFacts(
  stateRoot: string,
  workdir: string,
  env: Record<string, string | undefined>,
): PreflightFacts & { compilerRuns: number } {
  const cache = new PreflightCache(join(stateRoot, 'preflight'), compilerDigest());
  const facts = {
    compilerRuns: 0,
    modelConfig(path: string) {
      const full = resolve(workdir, path);
      let file: string;
      try {
        file = statSync(full).isDirectory() ? join(full, 'config.json') : join(dirname(full), 'config.json');
      } catch {
        return fail(`${path} does not exist`);
      }
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
        return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
          ? ok(parsed as Record<string, unknown>)
          : fail(`${file} is not a JSON object`);
      } catch (error) {
        return fail(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `the model has no config.json (${file}) to compile its shapes from`
            : `${file} is not valid JSON`,
        );
      }
    },
    cached: (request: Parameters<PreflightFacts['cached']>[0]) => cache.get(request),
    remember: (request: Parameters<PreflightFacts['remember']>[0], answer: Parameters<PreflightFacts['remember']>[1]) =>
      cache.put(request, answer),
    async compile(requests: Parameters<PreflightFacts['compile']>[0]) {
      facts.compilerRuns += 1;
      return runPreflight(requests, env);
    },
  };
  return facts;
}
