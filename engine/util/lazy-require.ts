// Owns loading a CommonJS package on first use, synchronously: a module that needs a large library on
// only some paths (ajv for a local plugin's schema, `yaml` for a diagnostic's position, apache-arrow for a
// table) stays synchronous, and start-up (`strand validate`, `--help`) does not pay for the library.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A function that returns `specifier`'s exports, requiring it the first time it is called. */
export function lazyRequire<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
