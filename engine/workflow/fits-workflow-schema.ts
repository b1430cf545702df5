// Owns the quick answer to "does the workflow schema accept this document?", for the common case of a valid
// file. The full schema (buildWorkflowSchema) checks each step's `with:` through an `if uses = X then ...`
// chain with one link per plugin, so every step of a 100,000-step workflow meets every link. Here the
// document is checked once against the schema of no plugins, and each step's `with:` against the schema of
// the plugin its `uses` names (both precompiled for the built-in steps). Only a yes is final: on a no, the
// caller validates against the full schema, whose errors give the diagnostics, so they stay the same.
import type { ValidateFunction } from 'ajv';
import type { JsonSchema, StepPlugin } from '../plugin-api/step-plugin.js';
import { schemaValidator } from './schema-validator.js';
import { pluginWithSchema, workflowShapeSchema } from './workflow-schema.js';

let shape: ValidateFunction | undefined;
/** By plugin: the validator of its `with:`, or undefined where the schema is not self-contained. */
const withValidators = new WeakMap<StepPlugin, ValidateFunction | undefined>();

/**
 * Whether a schema means the same alone as folded into the workflow schema: a `$ref` (or `$id`,
 * `$schema`, …) inside a plugin's `with:` would resolve against another root.
 */
function selfContained(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(selfContained);
  if (schema === null || typeof schema !== 'object') return true;
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('$') && key !== '$comment') return false;
    if (!selfContained(value)) return false;
  }
  return true;
}

function withValidator(plugin: StepPlugin): ValidateFunction | undefined {
  if (withValidators.has(plugin)) return withValidators.get(plugin);
  const schema: JsonSchema = pluginWithSchema(plugin);
  let validate: ValidateFunction | undefined;
  try {
    validate = selfContained(schema) ? schemaValidator(schema, 'located') : undefined;
  } catch {
    // A local plugin's schema ajv refuses: the full schema refuses it too, in the words it always has.
    validate = undefined;
  }
  withValidators.set(plugin, validate);
  return validate;
}

/**
 * True only when `buildWorkflowSchema` of `plugins` (each under the `uses:` string that names it) accepts
 * `value`; false when it rejects it, or when this cannot tell (a `uses` naming no plugin, a plugin schema
 * that is not self-contained).
 */
export function fitsWorkflowSchema(value: unknown, plugins: ReadonlyMap<string, StepPlugin>): boolean {
  shape ??= schemaValidator(workflowShapeSchema(), 'located');
  if (!shape(value)) return false;
  // The shape schema made `steps` a mapping of mappings, each with a string `uses`.
  const steps = (value as { steps: Record<string, { uses: string; with?: unknown }> }).steps;
  // By `uses`: whether it names a plugin, and the validator of its with: (looked up once per plugin, not per step).
  const byUses = new Map<string, { known: boolean; validate: ValidateFunction | undefined }>();
  for (const id in steps) {
    const step = steps[id]!;
    let uses = byUses.get(step.uses);
    if (uses === undefined) {
      const plugin = plugins.get(step.uses);
      byUses.set(step.uses, (uses = { known: plugin !== undefined, validate: plugin && withValidator(plugin) }));
    }
    if (!uses.known) return false;
    if (step.with === undefined) continue;
    if (uses.validate === undefined || !uses.validate(step.with)) return false;
  }
  return true;
}
