// Owns turning a JSON Schema into an ajv validate function. Schemas known when Strand is built (the
// workflow schema of the built-in steps, the recipe schema, each built-in step's `with:`) were compiled by `npm run build` into standalone code (scripts/build-validators.ts),
// found here by the SHA-256 of the schema's canonical JSON and its purpose: a schema that changed since
// cannot pick up a stale validator. A schema only known at run time (a workflow with local plugins) is compiled by ajv then,
// and only then is ajv loaded (synchronously, so validation stays synchronous).
import type { ValidateFunction } from 'ajv';
import type { Ajv2020, Options } from 'ajv/dist/2020.js';
import type { JsonSchema } from '../plugin-api/step-plugin.js';
import { sha256 } from '../util/sha256.js';
import { canonicalJson } from '../util/canonical-json.js';
import { lazyRequire } from '../util/lazy-require.js';
import { precompiledValidators } from './precompiled-validators.js';

/** `located`: every error, with its schema (for located diagnostics); `defaults`: fills `default:` values. */
export type ValidatorPurpose = 'located' | 'defaults';

export const AJV_OPTIONS: Record<ValidatorPurpose, Options> = {
  located: { allErrors: true, strict: false, verbose: true },
  defaults: { allErrors: true, strict: false, useDefaults: true },
};

export function validatorKey(schema: JsonSchema, purpose: ValidatorPurpose): string {
  return sha256(`${purpose}\n${canonicalJson(schema)}`);
}

const ajv = lazyRequire<{ Ajv2020: typeof Ajv2020 }>('ajv/dist/2020.js');
const compiled = new Map<string, ValidateFunction>();

export function schemaValidator(schema: JsonSchema, purpose: ValidatorPurpose): ValidateFunction {
  const key = validatorKey(schema, purpose);
  const validate = compiled.get(key) ?? precompiledValidators.get(key) ?? new (ajv().Ajv2020)(AJV_OPTIONS[purpose]).compile(schema);
  compiled.set(key, validate);
  return validate;
}
