import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { load, CORE_SCHEMA } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { builtinSteps } from '../../steps/index.js';
import { defineStep, type StepPlugin } from '../../engine/index.js';
import { fitsWorkflowSchema } from '../../engine/workflow/fits-workflow-schema.js';
import { schemaValidator } from '../../engine/workflow/schema-validator.js';
import { buildWorkflowSchema } from '../../engine/workflow/workflow-schema.js';
import { REPO } from '../helpers/project.js';

const local = defineStep({
  id: 'local',
  version: '1',
  description: 'a local plugin',
  with: { required: ['n'], properties: { n: { type: 'integer', minimum: 0 }, tags: { type: 'array', items: { type: 'string' } } } },
  inputs: {},
  outputs: {},
  async run() {},
});
// gc-content.yaml's local plugin takes no with:, so any plugin stands in for it.
const PLUGINS = new Map<string, StepPlugin>([
  ...builtinSteps.map((p): [string, StepPlugin] => [p.id, p]),
  ['./local.mjs', local],
  ['./plugins/gc-content.mjs', local],
]);
const full = schemaValidator(buildWorkflowSchema([...PLUGINS].map(([uses, plugin]) => ({ ...plugin, id: uses }))), 'located');

const SEEDS = ['quickstart.yaml', 'gc-content.yaml', 'taxonomy.yaml', 'lora.yaml', 'novelty.yaml'].map((f) =>
  load(readFileSync(join(REPO, 'workflows', f), 'utf8'), { schema: CORE_SCHEMA }),
);
SEEDS.push({ version: 1, name: 'local', steps: { a: { uses: './local.mjs', with: { n: 3, tags: ['x'] } } } });

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const leaf = fc.oneof(
  fc.constantFrom<Json>(null, true, 0, -1, 2.5, '', 'x', 'source/fasta', './local.mjs', './missing.mjs', 'recipe:x', 'fp32', [], {}),
  fc.integer().map((n): Json => n),
  fc.string({ maxLength: 6 }).map((s): Json => s),
);

/** Every path to a value inside `value` (the root included). */
function pathsOf(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const inside = Array.isArray(value)
    ? value.flatMap((item, i) => pathsOf(item, [...at, i]))
    : value !== null && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...at, key]))
      : [];
  return [at, ...inside];
}

/** `value` with the node at `path` replaced, deleted, or given a new key. */
function mutate(value: Json, path: (string | number)[], kind: number, replacement: Json, key: string): Json {
  if (path.length === 0) {
    if (kind === 2 && value !== null && typeof value === 'object' && !Array.isArray(value)) return { ...value, [key]: replacement };
    return kind === 1 ? {} : replacement;
  }
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((item, i) => (i === head ? mutate(item, rest, kind, replacement, key) : item));
  const entries = Object.entries(value as Record<string, Json>);
  if (kind === 1 && rest.length === 0) return Object.fromEntries(entries.filter(([k]) => k !== head));
  return Object.fromEntries(entries.map(([k, item]) => [k, k === head ? mutate(item, rest, kind, replacement, key) : item]));
}

describe('fitsWorkflowSchema', () => {
  it('agrees with the full schema on the example workflows (as written, params not substituted)', () => {
    for (const seed of SEEDS) expect(fitsWorkflowSchema(seed, PLUGINS)).toBe(full(seed));
    expect(SEEDS.filter((seed) => full(seed)).length).toBeGreaterThanOrEqual(3);
  });

  it('says yes only where the full workflow schema accepts (mutated workflows)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), leaf, fc.constantFrom('with', 'uses', 'needs', 'n', 'zz', 'on', 'path')), {
          minLength: 1,
          maxLength: 2,
        }),
        (seed, mutations) => {
          let value = SEEDS[seed] as Json;
          for (const [at, kind, replacement, key] of mutations) {
            const paths = pathsOf(value);
            value = mutate(value, paths[at % paths.length]!, kind, replacement, key);
          }
          const fits = fitsWorkflowSchema(value, PLUGINS);
          const valid = full(value);
          if (fits) expect(valid).toBe(true);
          // A no for a valid file may only mean "ask the full schema": a `uses` naming no plugin (a path).
          if (!fits && valid) {
            const steps = Object.values((value as { steps: Record<string, { uses: string }> }).steps);
            expect(steps.some((step) => !PLUGINS.has(step.uses))).toBe(true);
          }
          if (valid) accepted++;
        },
      ),
      { numRuns: 1500, seed: 27 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('leaves a plugin whose with: is not self-contained to the full schema', () => {
    const withRef = defineStep({ ...local, with: { $defs: { n: { type: 'integer' } }, properties: { n: { $ref: '#/$defs/n' } } } });
    const plugins = new Map<string, StepPlugin>([['./ref.mjs', withRef]]);
    expect(fitsWorkflowSchema({ version: 1, name: 'r', steps: { a: { uses: './ref.mjs', with: { n: 1 } } } }, plugins)).toBe(false);
    expect(fitsWorkflowSchema({ version: 1, name: 'r', steps: { a: { uses: './ref.mjs' } } }, plugins)).toBe(true);
  });

  it('leaves a plugin whose with: ajv refuses to the full schema (which refuses it as before)', () => {
    const invalid = defineStep({ ...local, with: { properties: { n: { type: 'no-such-type' } } } });
    const plugins = new Map<string, StepPlugin>([['./bad.mjs', invalid]]);
    expect(fitsWorkflowSchema({ version: 1, name: 'r', steps: { a: { uses: './bad.mjs', with: { n: 1 } } } }, plugins)).toBe(false);
  });
});
