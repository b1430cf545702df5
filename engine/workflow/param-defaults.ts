// Owns filling a step's `with:` from the `default:` values of its plugin's schema: the one place defaults
// are applied (ajv's `useDefaults`), so a step's `ctx.params` arrive complete and steps never repeat a
// default. withParamDefaults is pure: it returns a new object, the workflow as written is untouched.
import type { ValidateFunction } from 'ajv';
import type { JsonSchema } from '../plugin-api/step-plugin.js';
import { schemaValidator } from './schema-validator.js';

const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/** The schema whose validator fills defaults; scripts/build-validators.ts precompiles it per built-in step. */
export function paramDefaultsSchema(schema: JsonSchema): JsonSchema {
  return { type: 'object', ...schema };
}

function compile(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    // Defaults only: the same params were validated, with located diagnostics, against the workflow schema.
    validate = schemaValidator(paramDefaultsSchema(schema), 'defaults');
    compiled.set(schema, validate);
  }
  return validate;
}

/** `params` (validated against `schema`) with every missing property that has a `default:` filled in. */
export function withParamDefaults(schema: JsonSchema, params: Record<string, unknown>): Record<string, unknown> {
  return fillParamDefaults(schema, structuredClone(params));
}

/** withParamDefaults into `params` itself, for a caller that has just made it (no copy of each step's params). */
export function fillParamDefaults(schema: JsonSchema, params: Record<string, unknown>): Record<string, unknown> {
  compile(schema)(params);
  return params;
}
