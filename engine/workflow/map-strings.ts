// Owns walking the strings inside a JSON-like value (a step's `with:`, a recipe step's `with:`): the one
// walker behind param substitution, expression checks and recipe expansion. Each string is visited with
// its YAML path, so a check can point at it; everything else is copied as it is.
import type { YamlPath } from './yaml-source.js';

/** A copy of `value` with every string replaced by `visit(text, path)`; `path` is where `value` sits. */
export function mapStrings(value: unknown, visit: (text: string, path: YamlPath) => unknown, path: YamlPath = []): unknown {
  if (typeof value === 'string') return visit(value, path);
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, visit, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, visit, [...path, key])]));
  }
  return value;
}
