// Owns the types of a loaded recipe: a reusable sub-workflow (`kind: recipe`) with its file, digest
// and parsed source, ready to be expanded into the steps of a workflow.
import type { Sha256Hex } from '../util/sha256.js';
import type { YamlSource } from '../workflow/yaml-source.js';

export interface RecipeSpec {
  name: string;
  description?: string;
  params: Record<string, { type: string; default?: unknown; description?: string }>;
  inputs: Record<string, { type: string; description?: string }>;
  outputs: Record<string, string>;
  steps: Record<
    string,
    { uses: string; needs?: string[]; with?: Record<string, unknown>; inputs?: Record<string, string>; description?: string }
  >;
}

export interface LoadedRecipe {
  /** How the workflow named it (`./recipes/nt-embed.yaml`, `recipe:nt-embed`). */
  ref: string;
  /** Absolute path of the recipe file. */
  file: string;
  digest: Sha256Hex;
  source: YamlSource;
  spec: RecipeSpec;
}

export function isRecipeRef(uses: string): boolean {
  return uses.startsWith('recipe:') || uses.endsWith('.yaml') || uses.endsWith('.yml');
}
