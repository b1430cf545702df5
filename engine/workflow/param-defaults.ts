// Owns filling a step's `with:` from the `default:` values of its plugin's schema: the one place defaults
// are applied (ajv's `useDefaults`), so a step's `ctx.params` arrive complete and steps never repeat a
// default. Pure: returns a new object, the workflow as written is untouched.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { JsonSchema } from '../plugin-api/step-plugin.js';

const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function compile(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    // Defaults only: the same params were validated, with located diagnostics, against the workflow schema.
    validate = new Ajv2020({ strict: false, useDefaults: true, allErrors: true }).compile({ type: 'object', ...schema });
    compiled.set(schema, validate);
  }
  return validate;
}

/** `params` (validated against `schema`) with every missing property that has a `default:` filled in. */
export function withParamDefaults(schema: JsonSchema, params: Record<string, unknown>): Record<string, unknown> {
  const filled = structuredClone(params);
  compile(schema)(filled);
  return filled;
}
