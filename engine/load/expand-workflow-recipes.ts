// Owns the recipe stage of loading: find the recipes a workflow's steps use, load them, compare them
// with strand.lock, and expand them into namespaced steps. A diagnostic inside a recipe also points at
// the line that uses it (`withCallSite`).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { errorAt, type Diagnostic, type SourceLocation } from '../diagnostics/diagnostic.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import { expandRecipes } from '../recipes/expand-recipes.js';
import { loadRecipe } from '../recipes/load-recipe.js';
import { recipePaths } from '../recipes/recipe-paths.js';
import { isRecipeRef, type LoadedRecipe } from '../recipes/recipe.js';
import { LOCK_FILE, lockPath, readLock, type RecipeLock } from '../recipes/recipe-lock.js';
import { recipeSearchPath, resolveRecipe } from '../recipes/resolve-recipe.js';
import { ok, type Result } from '../util/result.js';
import { uriScheme } from '../workflow/path-params.js';
import type { YamlSource } from '../workflow/yaml-source.js';

export interface RecipeContext {
  file: string;
  workdir: string;
  env: Record<string, string | undefined>;
  /** Skip comparing recipes with strand.lock (for `strand lock --update`). */
  ignoreLock: boolean;
  plugins: ReadonlyMap<string, StepPlugin>;
}

export interface ExpandedSource {
  source: YamlSource;
  /** Where each recipe file is used, by its label (path relative to the workdir). */
  callSites: Map<string, SourceLocation>;
  /** Recipes used, by the path they are locked under. */
  recipes: Map<string, LoadedRecipe>;
  /** Texts of the recipe files (and of strand.lock when it is at fault), for code frames. */
  texts: Map<string, string>;
  /** Problems that still let loading go on (the rest of the workflow is checked too). */
  diagnostics: Diagnostic[];
}

export function expandWorkflowRecipes(source: YamlSource, context: RecipeContext): Result<ExpandedSource, Diagnostic[]> {
  const root = source.value as { steps?: Record<string, { uses?: unknown } | null>; allow_paths?: unknown } | null;
  // Keys, not entries: most steps of a big workflow are no recipe, and need no [id, step] pair each.
  const steps = root?.steps && typeof root.steps === 'object' ? root.steps : {};
  const uses: [string, { uses: string }][] = [];
  for (const id of Object.keys(steps)) {
    const step = steps[id];
    if (typeof step?.uses === 'string' && isRecipeRef(step.uses)) uses.push([id, step as { uses: string }]);
  }
  const expanded: ExpandedSource = { source, callSites: new Map(), recipes: new Map(), texts: new Map(), diagnostics: [] };
  if (uses.length === 0) return ok(expanded);
  const lock = lockFor(context);
  if (!lock.ok) return ok({ ...expanded, diagnostics: [lock.error.diagnostic], texts: new Map([[LOCK_FILE, lock.error.text]]) });

  const byRef = new Map<string, LoadedRecipe>();
  for (const [id, step] of uses) {
    const where = source.locate(['steps', id, 'uses']);
    const scheme = uriScheme(step.uses);
    if (scheme !== undefined) {
      // Loading reads recipes from the project only: a recipe in a bucket would need credentials to
      // validate, a generation pin in strand.lock, and trust in the code its local plugins would run.
      expanded.diagnostics.push(
        errorAt(
          'unsupported-uri',
          where,
          `recipe ${step.uses} is a ${scheme}:// URI; recipes are read from files in the project`,
          `copy it in (${scheme === 'gs' ? `gcloud storage cp ${step.uses} recipes/` : 'download it into recipes/'}) and write uses: ./recipes/${step.uses.split('/').pop() ?? 'NAME.yaml'}; strand.lock then pins it by digest`,
        ),
      );
      continue;
    }
    const path = resolveRecipe(step.uses, context.file, context.workdir, context.env);
    if (path === undefined) {
      const hint = step.uses.startsWith('recipe:')
        ? `searched: ${recipeSearchPath(context.workdir, context.env).join(', ')} (STRAND_RECIPE_PATH adds folders)`
        : 'a recipe path is relative to the workflow file';
      expanded.diagnostics.push(errorAt('recipe-not-found', where, `recipe ${step.uses} not found`, hint));
      continue;
    }
    const label = relative(context.workdir, path);
    expanded.callSites.set(label, where);
    let recipe = byRef.get(step.uses);
    if (recipe === undefined) {
      const result = loadRecipe(step.uses, path, label);
      expanded.texts.set(label, result.text);
      expanded.diagnostics.push(...result.diagnostics);
      if (result.recipe === undefined) continue;
      recipe = result.recipe;
      byRef.set(step.uses, recipe);
    }
    expanded.recipes.set(label, recipe);
    const locked = lock.value.recipes[label];
    if (locked !== undefined && locked !== recipe.digest) {
      expanded.diagnostics.push({
        ...errorAt(
          'recipe-changed',
          where,
          `recipe ${label} changed since it was locked in strand.lock`,
          'review the change, then run `strand lock --update` to accept it',
        ),
        related: [{ message: 'the recipe', location: { file: label, line: 1, column: 1, length: 1 } }],
      });
    }
  }
  if (byRef.size === 0) return ok(expanded);
  const pathKeysOf = (id: string): string[] =>
    Object.entries((context.plugins.get(id)?.with.properties ?? {}) as Record<string, { 'x-strand-path'?: string }>)
      .filter(([, p]) => p['x-strand-path'] !== undefined)
      .map(([k]) => k);
  const expansion = expandRecipes(source, byRef, { paths: recipePaths(context.workdir, context.file, allowPathsOf(root)), pathKeysOf });
  return ok({ ...expanded, source: expansion.source, diagnostics: [...expanded.diagnostics, ...expansion.diagnostics] });
}

/** The lock to compare with; when it is at fault, its diagnostic and its text (for the code frame). */
function lockFor(context: RecipeContext): Result<RecipeLock, { diagnostic: Diagnostic; text: string }> {
  if (context.ignoreLock) return ok({ version: 1, recipes: {} });
  const read = readLock(context.workdir);
  if (read.ok) return read;
  let text = '';
  try {
    text = readFileSync(lockPath(context.workdir), 'utf8');
  } catch {
    // unreadable: the diagnostic says so, with no frame
  }
  return { ok: false, error: { diagnostic: read.error, text } };
}

/** The `allow_paths:` list of a workflow document (folders outside the project it may write to). */
export function allowPathsOf(value: unknown): string[] {
  const list = (value as { allow_paths?: unknown } | null)?.allow_paths;
  return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
}

/** A diagnostic inside a recipe also points at the line that uses the recipe. */
export function withCallSite(diagnostic: Diagnostic, callSites: ReadonlyMap<string, SourceLocation>): Diagnostic {
  const site = callSites.get(diagnostic.location.file);
  return site === undefined
    ? diagnostic
    : { ...diagnostic, related: [...(diagnostic.related ?? []), { message: 'the recipe is used here', location: site }] };
}
