// Owns walking the strings inside a JSON-like value (a step's `with:`, a recipe step's `with:`): the one
// walker behind param substitution, expression checks and recipe expansion. Each string is visited with
// a way to get its YAML path, so a check can point at it; everything else is copied as it is (or, to only
// look, not copied at all).
import type { YamlPath } from './yaml-source.js';

type Visit = (text: string, path: () => YamlPath) => unknown;

/**
 * A copy of `value` with every string replaced by `visit(text, path)`; `path()` gives the string's YAML
 * path (`path` is where `value` sits). Paths are built only when asked: 100,000 steps' strings are walked
 * several times, and only the rare one with a problem is located.
 */
export function mapStrings(value: unknown, visit: Visit, path: YamlPath = []): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'string')) return value;
  const trail = [...path];
  return walk(value, visit, trail, () => [...trail], true);
}

/** Calls `visit(text, path)` for every string inside `value`, as mapStrings does, without copying anything. */
export function visitStrings(value: unknown, visit: (text: string, path: () => YamlPath) => void, path: YamlPath = []): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'string')) return;
  const trail = [...path];
  walk(value, visit, trail, () => [...trail], false);
}

/** A copy of `value` as mapStrings makes it, strings as they are, with no walk for paths. */
export function copyValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item: unknown) => copyValue(item));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copied = copyValue((value as Record<string, unknown>)[key]);
    // A `__proto__` key is data here, as in mapStrings.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copied, writable: true, enumerable: true, configurable: true });
    else out[key] = copied;
  }
  return out;
}

function walk(value: unknown, visit: Visit, trail: (string | number)[], at: () => YamlPath, copying: boolean): unknown {
  if (typeof value === 'string') return visit(value, at);
  if (Array.isArray(value)) {
    if (!copying) {
      value.forEach((item: unknown, i) => {
        trail.push(i);
        walk(item, visit, trail, at, false);
        trail.pop();
      });
      return undefined;
    }
    return value.map((item: unknown, i) => {
      trail.push(i);
      const mapped = walk(item, visit, trail, at, true);
      trail.pop();
      return mapped;
    });
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> | undefined = copying ? {} : undefined;
    for (const key of Object.keys(value)) {
      trail.push(key);
      const mapped = walk((value as Record<string, unknown>)[key], visit, trail, at, copying);
      trail.pop();
      if (out === undefined) continue;
      // A `__proto__` key is data here, as Object.fromEntries would make it, not the prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: mapped, writable: true, enumerable: true, configurable: true });
      else out[key] = mapped;
    }
    return out;
  }
  return value;
}
