// Owns reading one recipe file from disk; `parseRecipe` does the rest.
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { withoutByteOrderMark } from '../util/byte-order-mark.js';
import { parseRecipe } from './parse-recipe.js';
import type { LoadedRecipe } from './recipe.js';

export function loadRecipe(ref: string, file: string, label: string): { recipe?: LoadedRecipe; text: string; diagnostics: Diagnostic[] } {
  const text = readFileSync(file, 'utf8');
  // The digest is of the file as it is; code frames show it as editors do, without a byte-order mark.
  return { ...parseRecipe(ref, file, label, text), text: withoutByteOrderMark(text) };
}
