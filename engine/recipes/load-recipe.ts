// Owns reading one recipe file: parse it, check it against the recipe schema, digest its bytes.
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sha256 } from '../util/sha256.js';
import { checkAgainstSchema } from '../workflow/schema-diagnostics.js';
import { buildRecipeSchema } from '../workflow/workflow-schema.js';
import { parseYamlSource } from '../workflow/yaml-source.js';
import type { LoadedRecipe, RecipeSpec } from './recipe.js';

const RECIPE_SCHEMA = buildRecipeSchema();

export function loadRecipe(ref: string, file: string, label: string): { recipe?: LoadedRecipe; text: string; diagnostics: Diagnostic[] } {
  const text = readFileSync(file, 'utf8');
  const parsed = parseYamlSource(label, text);
  if (parsed.source === undefined) return { text, diagnostics: parsed.diagnostics };
  const diagnostics = checkAgainstSchema(parsed.source, RECIPE_SCHEMA, parsed.source.value);
  if (diagnostics.length > 0) return { text, diagnostics };
  const raw = parsed.source.value as Partial<RecipeSpec>;
  const spec: RecipeSpec = { name: raw.name!, params: raw.params ?? {}, inputs: raw.inputs ?? {}, outputs: raw.outputs ?? {}, steps: raw.steps!, ...(raw.description ? { description: raw.description } : {}) };
  return { recipe: { ref, file, digest: sha256(text), source: parsed.source, spec }, text, diagnostics: [] };
}
