// Owns expanding recipe steps into a workflow: a step `embed: { uses: ./recipes/nt-embed.yaml }`
// becomes the recipe's steps, namespaced (`embed.tokenize`, `embed.embed`), with the recipe's params
// filled from the step's `with:`, its data inputs wired from the step's needs, and references to the
// step redirected to the recipe's outputs. The result is a virtual source whose positions point into
// the recipe file for recipe steps. Pure: recipes arrive loaded.
import { relative, resolve, dirname } from 'node:path';
import { isInside } from '../util/is-inside.js';
import { errorAt, warningAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../util/did-you-mean.js';
import { locateInString, stringsIn } from '../workflow/check-workflow.js';
import { findExpressions } from '../workflow/expressions.js';
import type { YamlPath, YamlSource } from '../workflow/yaml-source.js';
import type { LoadedRecipe } from './recipe.js';
import { isRecipeRef } from './recipe.js';

type RawStep = { uses?: unknown; needs?: unknown; with?: unknown; inputs?: unknown; [k: string]: unknown };

export interface ExpandOptions {
  workdir: string;
  workflowFile: string;
  /** Directories recipes may reach besides their own folder and the workflow's. */
  allowPaths: string[];
  /** `with:` keys of a plugin that name files (`x-strand-path`). */
  pathKeysOf(uses: string): string[];
}

export interface Expansion {
  source: YamlSource;
  diagnostics: Diagnostic[];
  /** The recipe each calling step expanded, by the calling step's id. */
  calls: Map<string, LoadedRecipe>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function mapStrings(value: unknown, fn: (s: string) => unknown): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

/** Replaces recipe `${{ params.P }}` with the caller's values (a whole-string expression keeps the value). */
function fillParams(text: string, values: Record<string, unknown>): unknown {
  const matches = findExpressions(text);
  const only = matches[0];
  if (matches.length === 1 && only?.expression?.kind === 'param' && only.length === text.length && only.expression.name in values) return values[only.expression.name];
  return text.replace(/\$\{\{\s*params\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

export function expandRecipes(source: YamlSource, recipes: ReadonlyMap<string, LoadedRecipe>, options: ExpandOptions): Expansion {
  const root = isRecord(source.value) ? source.value : {};
  const steps = (isRecord(root.steps) ? root.steps : {}) as Record<string, RawStep>;
  const diagnostics: Diagnostic[] = [];
  const calls = new Map<string, LoadedRecipe>();
  const origins = new Map<string, { recipe: LoadedRecipe; inner: string }>();
  const outputsOfCall = new Map<string, Record<string, { step: string; port: string }>>();
  const workflowDir = dirname(resolve(options.workdir, options.workflowFile));
  const expanded: Record<string, RawStep> = {};

  for (const [id, step] of Object.entries(steps)) {
    const recipe = isRecord(step) && typeof step.uses === 'string' && isRecipeRef(step.uses) ? recipes.get(step.uses) : undefined;
    if (recipe === undefined) {
      expanded[id] = step;
      continue;
    }
    calls.set(id, recipe);
    const spec = recipe.spec;
    const recipeDir = dirname(recipe.file);
    const callWith = isRecord(step.with) ? step.with : {};
    const callInputs = isRecord(step.inputs) ? (step.inputs as Record<string, string>) : {};
    const callNeeds = Array.isArray(step.needs) ? (step.needs as string[]) : [];
    for (const key of Object.keys(callWith)) {
      if (!(key in spec.params)) {
        const suggestion = didYouMean(key, Object.keys(spec.params));
        diagnostics.push(errorAt('unknown-key', source.locate(['steps', id, 'with', key], 'key'), `recipe ${spec.name} has no param "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`, `its params: ${Object.keys(spec.params).join(', ') || 'none'}`));
      }
    }
    const values: Record<string, unknown> = {};
    for (const [name, param] of Object.entries(spec.params)) {
      const value = callWith[name] ?? param.default;
      if (value === undefined) diagnostics.push(errorAt('missing-param', source.locate(['steps', id], 'key'), `recipe ${spec.name} needs param "${name}" (${param.type})`, `add it under with:, e.g. with: { ${name}: ... }`));
      else values[name] = value;
    }
    const rLocate = (path: YamlPath) => recipe.source.locate(path);
    for (const [inner, raw] of Object.entries(spec.steps)) {
      const newId = `${id}.${inner}`;
      origins.set(newId, { recipe, inner });
      const broken = new Set<string>();
      for (const { path, text } of stringsIn(raw.with, ['steps', inner, 'with'])) {
        for (const match of findExpressions(text)) {
          if (match.expression?.kind === 'param' && !(match.expression.name in spec.params)) {
            broken.add(String(path[3]));
            diagnostics.push(errorAt('unknown-param', locateInString(recipe.source, path, match.source), `recipe ${spec.name} has no param "${match.expression.name}"`, `declare it under params: in ${recipe.source.file}`));
          }
        }
      }
      // A key whose recipe param is unknown is left out: it was reported here, not as a workflow param.
      const known = Object.fromEntries(Object.entries(raw.with ?? {}).filter(([key]) => !broken.has(key)));
      let withValue = mapStrings(known, (s) => fillParams(s, values)) as Record<string, unknown>;
      const pathKeys = options.pathKeysOf(raw.uses);
      withValue = Object.fromEntries(
        Object.entries(withValue).map(([key, value]) => {
          const literal = raw.with?.[key];
          if (!pathKeys.includes(key) || typeof literal !== 'string' || findExpressions(literal).length > 0 || typeof value !== 'string') return [key, value];
          // A path written in the recipe is relative to the recipe's folder and must stay within reach.
          const absolute = resolve(recipeDir, value);
          const allowed = [recipeDir, workflowDir, ...options.allowPaths.map((p) => resolve(options.workdir, p))];
          if (!allowed.some((dir) => isInside(absolute, dir))) {
            diagnostics.push(errorAt('path-escapes-workspace', rLocate(['steps', inner, 'with', key]), `recipe ${spec.name} reaches ${value}, outside its folder and the workflow's`, 'add the folder to allow_paths: in the workflow if you trust this recipe'));
          }
          return [key, relative(options.workdir, absolute) || '.'];
        }),
      );
      const needs = (raw.needs ?? []).map((n) => {
        if (!(n in spec.steps)) diagnostics.push(errorAt('unknown-step', rLocate(['steps', inner, 'needs', (raw.needs ?? []).indexOf(n)]), `recipe step "${inner}" needs "${n}", which is not a step of recipe ${spec.name}`, `its steps: ${Object.keys(spec.steps).join(', ')}`));
        return `${id}.${n}`;
      });
      const inputs: Record<string, string> = {};
      for (const [port, ref] of Object.entries(raw.inputs ?? {})) {
        const expression = findExpressions(ref)[0]?.expression;
        if (expression?.kind === 'recipe-input') {
          if (!(expression.port in spec.inputs)) {
            diagnostics.push(errorAt('bad-expression', rLocate(['steps', inner, 'inputs', port]), `recipe ${spec.name} has no input "${expression.port}"`, `declare it under inputs: in ${recipe.source.file}`));
          } else if (callInputs[expression.port] !== undefined) inputs[port] = callInputs[expression.port]!;
          else needs.push(...callNeeds.filter((n) => !needs.includes(n)));
        } else if (expression?.kind === 'step-output') {
          inputs[port] = `\${{ steps.${id}.${expression.step}.outputs.${expression.port} }}`;
        } else inputs[port] = ref;
      }
      let uses = raw.uses;
      if (/^\.{1,2}\//.test(uses)) {
        const rel = relative(workflowDir, resolve(recipeDir, uses));
        uses = rel.startsWith('.') ? rel : `./${rel}`;
        diagnostics.push(warningAt('recipe-runs-code', rLocate(['steps', inner, 'uses']), `recipe ${spec.name} runs local code: ${raw.uses}`, 'read the plugin before you run this recipe'));
      } else if (isRecipeRef(uses)) {
        diagnostics.push(errorAt('unknown-plugin', rLocate(['steps', inner, 'uses']), 'a recipe cannot use another recipe', 'copy its steps into this recipe'));
      }
      expanded[newId] = { uses, ...(needs.length ? { needs } : {}), with: withValue, ...(Object.keys(inputs).length ? { inputs } : {}) };
    }
    const outputs: Record<string, { step: string; port: string }> = {};
    for (const [name, ref] of Object.entries(spec.outputs)) {
      const expression = findExpressions(ref)[0]?.expression;
      if (expression?.kind !== 'step-output' || !(expression.step in spec.steps)) {
        diagnostics.push(errorAt('bad-expression', recipe.source.locate(['outputs', name]), `output "${name}" of recipe ${spec.name} must be \${{ steps.ID.outputs.PORT }} of one of its steps`, `its steps: ${Object.keys(spec.steps).join(', ')}`));
        continue;
      }
      outputs[name] = { step: `${id}.${expression.step}`, port: expression.port };
    }
    outputsOfCall.set(id, outputs);
  }

  // References to a calling step now go to the recipe's output steps.
  for (const [id, step] of Object.entries(expanded)) {
    if (!isRecord(step) || origins.has(id)) continue;
    const needs = Array.isArray(step.needs)
      ? [...new Set((step.needs as unknown[]).flatMap((n) => (typeof n === 'string' && outputsOfCall.has(n) ? Object.values(outputsOfCall.get(n)!).map((o) => o.step) : [n])))]
      : step.needs;
    const inputs = isRecord(step.inputs)
      ? Object.fromEntries(
          Object.entries(step.inputs).map(([port, ref]) => {
            const e = typeof ref === 'string' ? findExpressions(ref)[0]?.expression : undefined;
            const out = e?.kind === 'step-output' ? outputsOfCall.get(e.step)?.[e.port] : undefined;
            return [port, out ? `\${{ steps.${out.step}.outputs.${out.port} }}` : ref];
          }),
        )
      : step.inputs;
    expanded[id] = { ...step, ...(needs !== undefined ? { needs } : {}), ...(inputs !== undefined ? { inputs } : {}) };
  }

  const value = { ...root, steps: expanded };
  const locate: YamlSource['locate'] = (path, target) => {
    const origin = path[0] === 'steps' && typeof path[1] === 'string' ? origins.get(path[1]) : undefined;
    return origin ? origin.recipe.source.locate(['steps', origin.inner, ...path.slice(2)], target) : source.locate(path, target);
  };
  return { source: { file: source.file, text: source.text, value, locate }, diagnostics, calls };
}
