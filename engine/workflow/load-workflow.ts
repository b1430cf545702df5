// Owns loading a workflow from disk: read the file, parse it, load the local plugins it names, check it,
// and check that the input files its params name exist. The I/O edge around the pure `checkWorkflow`.
import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { isInside } from '../util/is-inside.js';
import { availableParallelism, totalmem } from 'node:os';
import { loadDeviceCatalog } from '../devices/device-catalog.js';
import { readModelFacts, type ModelFacts } from '../devices/onnx-model-facts.js';
import { placeWorkflow, type PlaceOptions } from '../devices/place-workflow.js';
import { expandRecipes } from '../recipes/expand-recipes.js';
import { loadRecipe } from '../recipes/load-recipe.js';
import { isRecipeRef, type LoadedRecipe } from '../recipes/recipe.js';
import { LOCK_FILE, lockPath, readLock, type RecipeLock } from '../recipes/recipe-lock.js';
import { recipeSearchPath, resolveRecipe } from '../recipes/resolve-recipe.js';
import { errorAt, type Diagnostic, type SourceLocation } from '../diagnostics/diagnostic.js';
import type { StepPlugin } from '../index.js';
import { loadLocalPlugin } from '../plugins/load-local-plugin.js';
import { globFiles } from '../util/glob-files.js';
import { checkWorkflow } from './check-workflow.js';
import { pathParams, uriScheme } from './path-params.js';
import type { Workflow } from './workflow.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

export interface LoadOptions {
  builtins: readonly StepPlugin[];
  overrides?: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** Relative data paths resolve against this directory. */
  workdir: string;
  /** Skip comparing recipes with strand.lock (for `strand lock --update`). */
  ignoreLock?: boolean;
}

export interface LoadResult {
  workflow?: Workflow;
  source?: YamlSource;
  diagnostics: Diagnostic[];
  /** Source texts by file name, for code frames. */
  texts: Map<string, string>;
  /** Recipes the workflow uses, by the path they are locked under (relative to the workdir). */
  recipes: Map<string, LoadedRecipe>;
}

export async function loadWorkflow(file: string, options: LoadOptions): Promise<LoadResult> {
  const texts = new Map<string, string>();
  const usedRecipes = new Map<string, LoadedRecipe>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const location = { file, line: 1, column: 1, length: 1 };
    return { diagnostics: [errorAt('file-not-found', location, `cannot read workflow file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'check the path')], texts, recipes: usedRecipes };
  }
  texts.set(file, text);
  const parsed = parseYamlSource(file, text);
  if (parsed.source === undefined) return { diagnostics: parsed.diagnostics, texts, recipes: usedRecipes };
  const diagnostics: Diagnostic[] = [];
  const plugins = new Map<string, StepPlugin>(options.builtins.map((p) => [p.id, p]));
  const { source, callSites } = withRecipesExpanded(file, parsed.source, options, plugins, texts, usedRecipes, diagnostics);

  const failedPlugins = new Set<string>();
  const steps = (source.value as { steps?: Record<string, { uses?: unknown }> } | null)?.steps;
  for (const [id, step] of Object.entries(steps && typeof steps === 'object' ? steps : {})) {
    const uses = step?.uses;
    if (typeof uses === 'string' && isRecipeRef(uses)) {
      failedPlugins.add(uses); // an expanded recipe is gone from the steps: this one failed to load (reported)
      continue;
    }
    if (typeof uses !== 'string' || !/^\.{1,2}\//.test(uses) || plugins.has(uses) || failedPlugins.has(uses)) continue;
    const loaded = await loadLocalPlugin(resolve(dirname(file), uses));
    if ('plugin' in loaded) plugins.set(uses, loaded.plugin);
    else {
      failedPlugins.add(uses);
      diagnostics.push(errorAt('plugin-load-failed', source.locate(['steps', id, 'uses']), loaded.error, 'a local plugin path is relative to the workflow file and exports default defineStep({...})'));
    }
  }
  const checked = checkWorkflow({ source, plugins, failedPlugins, overrides: options.overrides ?? {}, env: options.env ?? {} });
  diagnostics.push(...checked.diagnostics);
  if (checked.workflow) {
    const allowed = [options.workdir, ...allowPathsOf(source.value).map((p) => resolve(options.workdir, p))];
    for (const step of checked.workflow.steps) {
      for (const { key, path, direction, schemes } of pathParams(step)) {
        const scheme = uriScheme(path);
        if (scheme !== undefined) {
          if (!schemes.includes(scheme)) {
            const takes = schemes.length === 0 ? 'local paths only' : `local paths and ${schemes.map((s) => `${s}://`).join(', ')} URIs`;
            diagnostics.push(errorAt('unsupported-uri', source.locate(['steps', step.id, 'with', key]), `step "${step.id}": ${key}: ${path} is a ${scheme}:// URI; ${step.uses} ${key} takes ${takes}`, scheme === 'gs' ? 'copy the objects to a local folder (gcloud storage cp -r ...) and give its path' : 'give a local path, or copy the data to Cloud Storage (gs://)'));
          }
          continue;
        }
        if (direction === 'output' && !allowed.some((dir) => isInside(resolve(options.workdir, path), dir))) {
          diagnostics.push(errorAt('path-escapes-workspace', source.locate(['steps', step.id, 'with', key]), `step "${step.id}" would write ${path}, outside the project (${options.workdir})`, 'write under the project, or list the folder under allow_paths: if you mean it'));
        }
        if (direction === 'input' && globFiles(path, options.workdir).length === 0) {
          diagnostics.push(errorAt('file-not-found', source.locate(['steps', step.id, 'with', key]), `step "${step.id}": no file matches ${key}: ${path} (relative to ${options.workdir})`, 'paths in with: are relative to the directory you run strand from'));
        }
      }
    }
  }
  if (checked.workflow && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics.push(...placeWorkflow(checked.workflow, source, placeOptions(options.workdir)).diagnostics);
  }
  const located = diagnostics
    .map((d) => withCallSite(d, callSites))
    .sort((a, b) => a.location.file.localeCompare(b.location.file) || a.location.line - b.location.line || a.location.column - b.location.column);
  const failed = located.some((d) => d.severity === 'error');
  return failed ? { source, diagnostics: located, texts, recipes: usedRecipes } : { workflow: checked.workflow!, source, diagnostics: located, texts, recipes: usedRecipes };
}

type CallSites = Map<string, SourceLocation>;

/**
 * Model facts by file identity: validation and then plan or run each place the workflow, and reading
 * facts means reading the whole ONNX file (gigabytes for NT-2.5B), so one process reads it once.
 */
const modelFactsByFile = new Map<string, { stamp: string; facts: ModelFacts }>();

function modelFactsOf(path: string): ModelFacts {
  const stats = statSync(path);
  const stamp = `${stats.size}:${stats.mtimeMs}:${stats.ino}`;
  const known = modelFactsByFile.get(path);
  if (known?.stamp === stamp) return known.facts;
  const facts = readModelFacts(path);
  modelFactsByFile.set(path, { stamp, facts });
  return facts;
}

/** Placement reads the device catalog, the machine, and the ONNX files embed steps name. */
export function placeOptions(workdir: string, sequencesOf?: (step: string) => number | undefined): PlaceOptions {
  return {
    catalog: loadDeviceCatalog(),
    cpu: { cores: availableParallelism(), memoryBytes: totalmem() },
    modelFactsOf: (step) => {
      const model = step.params.model;
      if (typeof model !== 'string' || !model.endsWith('.onnx')) return undefined;
      try {
        return modelFactsOf(resolve(workdir, model));
      } catch {
        return undefined; // a missing or unreadable model is reported by its step
      }
    },
    ...(sequencesOf ? { sequencesOf } : {}),
  };
}

function allowPathsOf(value: unknown): string[] {
  const list = (value as { allow_paths?: unknown } | null)?.allow_paths;
  return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
}

/** Loads the recipes the workflow's steps use, checks them against strand.lock, and expands them. */
function withRecipesExpanded(
  file: string,
  source: YamlSource,
  options: LoadOptions,
  plugins: ReadonlyMap<string, StepPlugin>,
  texts: Map<string, string>,
  used: Map<string, LoadedRecipe>,
  diagnostics: Diagnostic[],
): { source: YamlSource; callSites: CallSites } {
  const root = source.value as { steps?: Record<string, { uses?: unknown }>; allow_paths?: unknown } | null;
  const byRef = new Map<string, LoadedRecipe>();
  const callSites: CallSites = new Map();
  let lock: RecipeLock | undefined;
  for (const [id, step] of Object.entries(root?.steps && typeof root.steps === 'object' ? root.steps : {})) {
    const uses = step?.uses;
    if (typeof uses !== 'string' || !isRecipeRef(uses)) continue;
    if (lock === undefined) {
      const read = options.ignoreLock ? { ok: true as const, value: { version: 1 as const, recipes: {} } } : readLock(options.workdir);
      if (!read.ok) {
        diagnostics.push(read.error);
        texts.set(LOCK_FILE, readTextForFrame(lockPath(options.workdir)));
        return { source, callSites };
      }
      lock = read.value;
    }
    const where = source.locate(['steps', id, 'uses']);
    const path = resolveRecipe(uses, file, options.workdir, options.env ?? {});
    if (path === undefined) {
      const hint = uses.startsWith('recipe:') ? `searched: ${recipeSearchPath(options.workdir, options.env ?? {}).join(', ')} (STRAND_RECIPE_PATH adds folders)` : 'a recipe path is relative to the workflow file';
      diagnostics.push(errorAt('recipe-not-found', where, `recipe ${uses} not found`, hint));
      continue;
    }
    const label = relative(options.workdir, path);
    callSites.set(label, where);
    if (!byRef.has(uses)) {
      const result = loadRecipe(uses, path, label);
      texts.set(label, result.text);
      diagnostics.push(...result.diagnostics);
      if (result.recipe === undefined) continue;
      byRef.set(uses, result.recipe);
    }
    const loaded = byRef.get(uses)!;
    used.set(label, loaded);
    const locked = lock.recipes[label];
    if (locked !== undefined && locked !== loaded.digest) {
      diagnostics.push({
        ...errorAt('recipe-changed', where, `recipe ${label} changed since it was locked in strand.lock`, 'review the change, then run `strand lock --update` to accept it'),
        related: [{ message: 'the recipe', location: { file: label, line: 1, column: 1, length: 1 } }],
      });
    }
  }
  if (byRef.size === 0) return { source, callSites };
  const pathKeysOf = (uses: string): string[] =>
    Object.entries((plugins.get(uses)?.with.properties ?? {}) as Record<string, { 'x-strand-path'?: string }>)
      .filter(([, p]) => p['x-strand-path'] !== undefined)
      .map(([k]) => k);
  const expansion = expandRecipes(source, byRef, { workdir: options.workdir, workflowFile: file, allowPaths: allowPathsOf(root), pathKeysOf });
  diagnostics.push(...expansion.diagnostics);
  return { source: expansion.source, callSites };
}

/** The text of a file a diagnostic points into, for its code frame ('' when it cannot be read). */
function readTextForFrame(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A diagnostic inside a recipe also points at the line that uses the recipe. */
function withCallSite(diagnostic: Diagnostic, callSites: CallSites): Diagnostic {
  const site = callSites.get(diagnostic.location.file);
  return site === undefined ? diagnostic : { ...diagnostic, related: [...(diagnostic.related ?? []), { message: 'the recipe is used here', location: site }] };
}
