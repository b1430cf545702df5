// Owns the validators compiled when Strand is built. This source is a stand-in with none, which tests
// running from source use (every schema is then compiled by ajv at run time); `npm run build` replaces
// its output, dist/engine/workflow/precompiled-validators.js, with ajv's standalone code for each
// schema known at build time (scripts/build-validators.ts), keyed as schema-validator.ts looks them up.
import type { ValidateFunction } from 'ajv';

export const precompiledValidators: ReadonlyMap<string, ValidateFunction> = new Map();
