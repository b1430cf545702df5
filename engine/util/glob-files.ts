// Owns expanding a path that may hold glob wildcards (`*`, `?`, `**`) into the sorted list of
// matching files (the same patterns match object names in gs:// listings). Node 20 has no fs.glob, and the
// patterns users write for inputs are simple.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

export function hasGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** A matcher for slash-separated names (`*` within a segment, `?` one character, `**` across segments). */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Files matching `pattern` (relative to `cwd` unless absolute), sorted; a plain path yields itself if it exists. */
export function globFiles(pattern: string, cwd: string): string[] {
  const absolute = resolve(cwd, pattern);
  if (!hasGlob(pattern)) {
    try {
      return statSync(absolute).isFile() ? [absolute] : [];
    } catch {
      return [];
    }
  }
  const firstWild = absolute.search(/[*?]/);
  const root = absolute.slice(0, absolute.lastIndexOf(sep, firstWild));
  const matcher = globToRegExp(relative(root, absolute).split(sep).join('/'));
  const found: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const full = join(dir, name);
      // A link to nothing (a model folder's model.onnx -> ../x.onnx, copied without x.onnx) is a name, not a folder.
      if (statSync(full, { throwIfNoEntry: false })?.isDirectory() === true) walk(full);
      else if (matcher.test(relative(root, full).split(sep).join('/'))) found.push(full);
    }
  };
  walk(root);
  return found.sort();
}
