// Owns the one check of whether a path lies inside a directory (for paths that must not escape).
import { isAbsolute, relative } from 'node:path';

export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
