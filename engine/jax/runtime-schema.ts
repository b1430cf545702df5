// Owns checking values against the JAX runtime's JSON Schemas (runtime/jax/src/strand_jax/*.schema.json):
// the JAX job, the worker contract and the pre-flight contract — the same files the Python side checks
// against. One Ajv holds all three, so a $ref from one file into another resolves; ajv is loaded and each
// validator compiled on first use only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { lazyRequire } from '../util/lazy-require.js';
import { fail, ok, type Result } from '../util/result.js';
import { jaxRuntimeDir } from './jax-runtime-dir.js';

/** The runtime's schema files, by the name the checks use. */
const SCHEMA_FILES = {
  jaxJob: 'jax_job.schema.json',
  workerContract: 'worker_contract.schema.json',
  preflight: 'preflight.schema.json',
} as const;

export type RuntimeSchema = keyof typeof SCHEMA_FILES;

/** ajv loads with the first check: `validate` and the other commands that check no JAX value never load it. */
const ajvModule = lazyRequire<{ Ajv2020: typeof Ajv2020 }>('ajv/dist/2020.js');
let ajv: { instance: Ajv2020; ids: Record<RuntimeSchema, string> } | undefined;
const validators = new Map<string, ValidateFunction>();

function schemas(): NonNullable<typeof ajv> {
  if (ajv === undefined) {
    const instance = new (ajvModule().Ajv2020)({ allErrors: true, strict: false });
    const ids = {} as Record<RuntimeSchema, string>;
    for (const [name, file] of Object.entries(SCHEMA_FILES) as [RuntimeSchema, string][]) {
      const schema = JSON.parse(readFileSync(join(jaxRuntimeDir(), 'src', 'strand_jax', file), 'utf8')) as { $id: string };
      instance.addSchema(schema);
      ids[name] = schema.$id;
    }
    ajv = { instance, ids };
  }
  return ajv;
}

/** The value if it is a valid `kind` (a $defs entry) of `schema`; else the first problem, with its path. */
export function checkRuntimeValue<T>(schema: RuntimeSchema, kind: string, value: unknown): Result<T, string> {
  const { instance, ids } = schemas();
  const ref = `${ids[schema]}#/$defs/${kind}`;
  let check = validators.get(ref);
  if (check === undefined) {
    const found = instance.getSchema(ref);
    if (found === undefined) throw new Error(`bug: ${SCHEMA_FILES[schema]} has no $defs/${kind}`);
    check = found;
    validators.set(ref, check);
  }
  if (check(value)) return ok(value as T);
  const first = check.errors?.[0];
  return fail(`${kind} at ${first?.instancePath || '(root)'}: ${first?.message ?? 'invalid'}`);
}
