// Owns reading one recipe file from disk; `parseRecipe` does the rest.
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { parseRecipe } from './parse-recipe.js';
import type { LoadedRecipe } from './recipe.js';

export function loadRecipe(ref: string, file: string, label: string): { recipe?: LoadedRecipe; text: string; diagnostics: Diagnostic[] } {
  const text = readFileSync(file, 'utf8');
  return { text, ...parseRecipe(ref, file, label, text) };
}
