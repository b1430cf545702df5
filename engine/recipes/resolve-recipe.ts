// Owns finding a recipe file: a path relative to the workflow (`./recipes/x.yaml`), or a name
// (`recipe:x`) looked up in `recipes/` under the working directory, then each STRAND_RECIPE_PATH folder.
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

export function recipeSearchPath(workdir: string, env: Record<string, string | undefined>): string[] {
  return [
    join(workdir, 'recipes'),
    ...(env.STRAND_RECIPE_PATH ?? '')
      .split(delimiter)
      .filter((p) => p !== '')
      .map((p) => resolve(workdir, p)),
  ];
}

export function resolveRecipe(
  ref: string,
  workflowFile: string,
  workdir: string,
  env: Record<string, string | undefined>,
): string | undefined {
  if (!ref.startsWith('recipe:')) {
    const path = resolve(dirname(resolve(workdir, workflowFile)), ref);
    return existsSync(path) ? path : undefined;
  }
  const name = ref.slice('recipe:'.length);
  for (const dir of recipeSearchPath(workdir, env)) {
    for (const ext of ['.yaml', '.yml']) if (existsSync(join(dir, name + ext))) return join(dir, name + ext);
  }
  return undefined;
}
