// Owns turning the text of one recipe file into a `LoadedRecipe`: parse it, check it against the recipe
// schema, digest its bytes. No I/O: `loadRecipe` reads the file.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sha256 } from '../util/sha256.js';
import { checkAgainstSchema } from '../workflow/schema-diagnostics.js';
import { buildRecipeSchema } from '../workflow/workflow-schema.js';
import { parseYamlSource } from '../workflow/yaml-source.js';
import type { LoadedRecipe, RecipeSpec } from './recipe.js';

const RECIPE_SCHEMA = buildRecipeSchema();

/** `ref` is how the workflow names the recipe, `file` its absolute path, `label` its name in diagnostics. */
export function parseRecipe(ref: string, file: string, label: string, text: string): { recipe?: LoadedRecipe; diagnostics: Diagnostic[] } {
  const parsed = parseYamlSource(label, text);
  if (parsed.source === undefined) return { diagnostics: parsed.diagnostics };
  const diagnostics = checkAgainstSchema(parsed.source, RECIPE_SCHEMA, parsed.source.value);
  if (diagnostics.length > 0) return { diagnostics };
  const raw = parsed.source.value as Partial<RecipeSpec>;
  const spec: RecipeSpec = {
    name: raw.name!,
    params: raw.params ?? {},
    inputs: raw.inputs ?? {},
    outputs: raw.outputs ?? {},
    steps: raw.steps!,
    ...(raw.description ? { description: raw.description } : {}),
  };
  return { recipe: { ref, file, digest: sha256(text), source: parsed.source, spec }, diagnostics: [] };
}
