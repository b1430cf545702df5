// Owns where a path written in a recipe points. A recipe's data paths are relative to the recipe's
// folder and must stay within its folder, the workflow's or allow_paths; a URI (gs://bucket/x) is no
// local path and passes through as written (validate checks the param takes its scheme); its local plugins are
// rewritten relative to the workflow's folder, as the workflow's own are. The `node:path` edge that
// lets `expandRecipes` stay pure: the loader builds it, tests use it as it is.
import { dirname, relative, resolve } from 'node:path';
import { isInside } from '../util/is-inside.js';
import { uriScheme } from '../workflow/path-params.js';

export interface RecipePaths {
  /** A data path written in `recipeFile`, relative to the project; `inside` is false when it escapes every allowed folder. */
  dataPath(recipeFile: string, path: string): { path: string; inside: boolean };
  /** A local plugin path (`./x.mjs`) written in `recipeFile`, relative to the workflow's folder. */
  pluginPath(recipeFile: string, path: string): string;
}

/** `allowPaths` are the workflow's `allow_paths:`, relative to `workdir`. */
export function recipePaths(workdir: string, workflowFile: string, allowPaths: readonly string[]): RecipePaths {
  const workflowDir = dirname(resolve(workdir, workflowFile));
  const allowed = [workflowDir, ...allowPaths.map((p) => resolve(workdir, p))];
  return {
    dataPath(recipeFile, path) {
      if (uriScheme(path) !== undefined) return { path, inside: true };
      const recipeDir = dirname(recipeFile);
      const absolute = resolve(recipeDir, path);
      return { path: relative(workdir, absolute) || '.', inside: [recipeDir, ...allowed].some((dir) => isInside(absolute, dir)) };
    },
    pluginPath(recipeFile, path) {
      const rel = relative(workflowDir, resolve(dirname(recipeFile), path));
      return rel.startsWith('.') ? rel : `./${rel}`;
    },
  };
}
