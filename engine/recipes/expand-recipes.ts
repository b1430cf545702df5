// Owns expanding recipe steps into a workflow: a step `embed: { uses: ./recipes/nt-embed.yaml }`
// becomes the recipe's steps, namespaced (`embed.tokenize`, `embed.embed`), with the recipe's params
// filled from the step's `with:`, its data inputs wired from the step's needs, and references to the
// step redirected to the recipe's outputs. The result is a virtual source whose positions point into
// the recipe file for recipe steps. Pure: recipes arrive loaded, and `RecipePaths` resolves paths.
//
// The outputs of every call are known before any step is expanded, so each reference is parsed once
// and written once: a reference to a calling step, from the workflow or from another call's inputs
// and needs, goes straight to the recipe step that produces it.
import { errorAt, warningAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../util/did-you-mean.js';
import {
  expressionsIn,
  findExpressions,
  formatStepOutput,
  locateExpression,
  parseReference,
  resolveParams,
} from '../workflow/expressions.js';
import type { PortWire } from '../workflow/workflow.js';
import type { YamlPath, YamlSource } from '../workflow/yaml-source.js';
import type { RecipePaths } from './recipe-paths.js';
import { isRecipeRef, type LoadedRecipe } from './recipe.js';

type RawStep = { uses?: unknown; needs?: unknown; with?: unknown; inputs?: unknown; [k: string]: unknown };

export interface ExpandOptions {
  paths: RecipePaths;
  /** `with:` keys of a plugin that name files (`x-strand-path`). */
  pathKeysOf(uses: string): string[];
}

export interface Expansion {
  source: YamlSource;
  diagnostics: Diagnostic[];
  /** The recipe each calling step expanded, by the calling step's id. */
  calls: Map<string, LoadedRecipe>;
}

/** The recipe step and port behind each output of a calling step, by the calling step's id. */
type CallOutputs = ReadonlyMap<string, Readonly<Record<string, PortWire>>>;

interface Context {
  source: YamlSource;
  options: ExpandOptions;
  outputs: CallOutputs;
  diagnostics: Diagnostic[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function expandRecipes(source: YamlSource, recipes: ReadonlyMap<string, LoadedRecipe>, options: ExpandOptions): Expansion {
  const root = isRecord(source.value) ? source.value : {};
  const steps = (isRecord(root.steps) ? root.steps : {}) as Record<string, RawStep>;
  const diagnostics: Diagnostic[] = [];
  const calls = new Map<string, LoadedRecipe>();
  for (const [id, step] of Object.entries(steps)) {
    const recipe = isRecord(step) && typeof step.uses === 'string' && isRecipeRef(step.uses) ? recipes.get(step.uses) : undefined;
    if (recipe !== undefined) calls.set(id, recipe);
  }
  const context: Context = {
    source,
    options,
    diagnostics,
    outputs: new Map([...calls].map(([id, recipe]) => [id, callOutputs(id, recipe, diagnostics)])),
  };
  const origins = new Map<string, { recipe: LoadedRecipe; inner: string }>();
  const expanded: Record<string, unknown> = {};
  for (const [id, step] of Object.entries(steps)) {
    const recipe = calls.get(id);
    if (recipe === undefined) {
      expanded[id] = isRecord(step) ? redirected(step, context.outputs) : step;
      continue;
    }
    for (const [inner, innerStep] of Object.entries(expandCall(id, step, recipe, context))) {
      expanded[`${id}.${inner}`] = innerStep;
      origins.set(`${id}.${inner}`, { recipe, inner });
    }
  }

  const value = { ...root, steps: expanded };
  const locate: YamlSource['locate'] = (path, target) => {
    const origin = path[0] === 'steps' && typeof path[1] === 'string' ? origins.get(path[1]) : undefined;
    return origin ? origin.recipe.source.locate(['steps', origin.inner, ...path.slice(2)], target) : source.locate(path, target);
  };
  return { source: { file: source.file, text: source.text, value, locate }, diagnostics, calls };
}

/** Where each of a recipe's outputs comes from when step `id` calls it. */
function callOutputs(id: string, recipe: LoadedRecipe, diagnostics: Diagnostic[]): Record<string, PortWire> {
  const { spec } = recipe;
  const outputs: Record<string, PortWire> = {};
  for (const [name, ref] of Object.entries(spec.outputs)) {
    const expression = parseReference(ref);
    if (expression?.kind !== 'step-output' || !Object.hasOwn(spec.steps, expression.step)) {
      diagnostics.push(
        errorAt(
          'bad-expression',
          recipe.source.locate(['outputs', name]),
          `output "${name}" of recipe ${spec.name} must be \${{ steps.ID.outputs.PORT }} of one of its steps`,
          `its steps: ${Object.keys(spec.steps).join(', ')}`,
        ),
      );
      continue;
    }
    outputs[name] = { step: `${id}.${expression.step}`, port: expression.port };
  }
  return outputs;
}

/** A workflow step with its needs and references to calling steps sent to the recipe steps behind them. */
function redirected(step: RawStep, outputs: CallOutputs): RawStep {
  return {
    ...step,
    ...(Array.isArray(step.needs) ? { needs: redirectNeeds(step.needs, outputs) } : {}),
    ...(isRecord(step.inputs)
      ? { inputs: Object.fromEntries(Object.entries(step.inputs).map(([port, ref]) => [port, redirectReference(ref, outputs)])) }
      : {}),
  };
}

/** A need on a calling step becomes needs on the recipe steps that produce its outputs. */
function redirectNeeds(needs: readonly unknown[], outputs: CallOutputs): unknown[] {
  return [
    ...new Set(
      needs.flatMap((need) => {
        const call = typeof need === 'string' ? outputs.get(need) : undefined;
        return call ? Object.values(call).map((output) => output.step) : [need];
      }),
    ),
  ];
}

/** A reference to a calling step's output becomes one to the recipe step that produces it; others stay as written. */
function redirectReference(ref: unknown, outputs: CallOutputs): unknown {
  const expression = parseReference(ref);
  const wire = expression?.kind === 'step-output' ? outputs.get(expression.step)?.[expression.port] : undefined;
  return wire ? formatStepOutput(wire) : ref;
}

/** The recipe's param values for one call: the call's `with:`, else the recipe's defaults. */
function callParams(id: string, call: RawStep, recipe: LoadedRecipe, { source, diagnostics }: Context): Record<string, unknown> {
  const { spec } = recipe;
  const callWith = isRecord(call.with) ? call.with : {};
  for (const key of Object.keys(callWith)) {
    if (!Object.hasOwn(spec.params, key)) {
      const suggestion = didYouMean(key, Object.keys(spec.params));
      diagnostics.push(
        errorAt(
          'unknown-key',
          source.locate(['steps', id, 'with', key], 'key'),
          `recipe ${spec.name} has no param "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          `its params: ${Object.keys(spec.params).join(', ') || 'none'}`,
        ),
      );
    }
  }
  const values: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(spec.params)) {
    const value = callWith[name] ?? param.default;
    if (value === undefined)
      diagnostics.push(
        errorAt(
          'missing-param',
          source.locate(['steps', id], 'key'),
          `recipe ${spec.name} needs param "${name}" (${param.type})`,
          `add it under with:, e.g. with: { ${name}: ... }`,
        ),
      );
    else values[name] = value;
  }
  return values;
}

/** The steps that step `id`, calling `recipe`, becomes, by their id inside the recipe. */
function expandCall(id: string, call: RawStep, recipe: LoadedRecipe, context: Context): Record<string, RawStep> {
  const { options, outputs, diagnostics } = context;
  const { spec } = recipe;
  const values = callParams(id, call, recipe, context);
  const callInputs = isRecord(call.inputs) ? call.inputs : {};
  const callNeeds = Array.isArray(call.needs) ? redirectNeeds(call.needs, outputs) : [];
  const locate = (path: YamlPath) => recipe.source.locate(path);
  const steps: Record<string, RawStep> = {};
  for (const [inner, raw] of Object.entries(spec.steps)) {
    const broken = new Set<string>();
    for (const { path, match } of expressionsIn(raw.with, ['steps', inner, 'with'])) {
      if (match.expression?.kind === 'param' && !Object.hasOwn(spec.params, match.expression.name)) {
        broken.add(String(path[3]));
        diagnostics.push(
          errorAt(
            'unknown-param',
            locateExpression(recipe.source, path, match),
            `recipe ${spec.name} has no param "${match.expression.name}"`,
            `declare it under params: in ${recipe.source.file}`,
          ),
        );
      }
    }
    const pathKeys = options.pathKeysOf(raw.uses);
    // A key whose recipe param is unknown is left out: it was reported here, not as a workflow param.
    const withValue = Object.fromEntries(
      Object.entries(raw.with ?? {})
        .filter(([key]) => !broken.has(key))
        .map(([key, value]) => {
          if (!pathKeys.includes(key) || typeof value !== 'string' || findExpressions(value).length > 0)
            return [key, resolveParams(value, values)];
          const rebased = options.paths.dataPath(recipe.file, value);
          if (!rebased.inside)
            diagnostics.push(
              errorAt(
                'path-escapes-workspace',
                locate(['steps', inner, 'with', key]),
                `recipe ${spec.name} reaches ${value}, outside its folder and the workflow's`,
                'add the folder to allow_paths: in the workflow if you trust this recipe',
              ),
            );
          return [key, rebased.path];
        }),
    );
    const needs: unknown[] = (raw.needs ?? []).map((need, i) => {
      if (!Object.hasOwn(spec.steps, need))
        diagnostics.push(
          errorAt(
            'unknown-step',
            locate(['steps', inner, 'needs', i]),
            `recipe step "${inner}" needs "${need}", which is not a step of recipe ${spec.name}`,
            `its steps: ${Object.keys(spec.steps).join(', ')}`,
          ),
        );
      return `${id}.${need}`;
    });
    const inputs: Record<string, unknown> = {};
    for (const [port, ref] of Object.entries(raw.inputs ?? {})) {
      const expression = parseReference(ref);
      if (expression?.kind === 'recipe-input') {
        if (!Object.hasOwn(spec.inputs, expression.port)) {
          diagnostics.push(
            errorAt(
              'bad-expression',
              locate(['steps', inner, 'inputs', port]),
              `recipe ${spec.name} has no input "${expression.port}"`,
              `declare it under inputs: in ${recipe.source.file}`,
            ),
          );
        } else if (callInputs[expression.port] !== undefined) inputs[port] = redirectReference(callInputs[expression.port], outputs);
        else needs.push(...callNeeds.filter((need) => !needs.includes(need)));
      } else if (expression?.kind === 'step-output') {
        inputs[port] = formatStepOutput({ step: `${id}.${expression.step}`, port: expression.port });
      } else inputs[port] = ref;
    }
    let uses = raw.uses;
    if (/^\.{1,2}\//.test(uses)) {
      uses = options.paths.pluginPath(recipe.file, raw.uses);
      diagnostics.push(
        warningAt(
          'recipe-runs-code',
          locate(['steps', inner, 'uses']),
          `recipe ${spec.name} runs local code: ${raw.uses}`,
          'read the plugin before you run this recipe',
        ),
      );
    } else if (isRecipeRef(uses)) {
      diagnostics.push(
        errorAt(
          'unknown-plugin',
          locate(['steps', inner, 'uses']),
          'a recipe cannot use another recipe',
          'copy its steps into this recipe',
        ),
      );
    }
    steps[inner] = { uses, ...(needs.length ? { needs } : {}), with: withValue, ...(Object.keys(inputs).length ? { inputs } : {}) };
  }
  return steps;
}
