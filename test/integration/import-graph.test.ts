// The module graph of the engine and the built-in steps has no cycle (type-only imports count: a cycle of
// types is a cycle of concepts), and no engine module imports the public entry, engine/index.ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCycle } from '../../engine/graph/find-cycle.js';
import { REPO } from '../helpers/project.js';

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)|(?:^|\n)\s*import\s+'(\.[^']+)'/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Each module's relative imports, resolved to the source files they name. */
function importGraph(roots: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of roots.flatMap((r) => sources(join(REPO, r)))) {
    const targets: string[] = [];
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const base = resolve(dirname(file), match[1] ?? match[2] ?? match[3]!).replace(/\.js$/, '');
      const found = [`${base}.ts`, `${base}.tsx`].find((p) => existsSync(p));
      if (found !== undefined) targets.push(relative(REPO, found));
    }
    graph.set(relative(REPO, file), targets);
  }
  return graph;
}

describe('the import graph', () => {
  const graph = importGraph(['engine', 'steps']);

  it('reads the imports it checks', () => {
    expect(graph.get('engine/devices/place-workflow.ts')).toContain('engine/devices/run-placement.ts');
    expect(graph.get('steps/embed/nt.ts')).toContain('engine/index.ts');
  });

  it('has no cycle among the engine and the built-in steps', () => {
    expect(findCycle([...graph.keys()], graph)).toBeUndefined();
  });

  it('finds a cycle when there is one', () => {
    const cyclic = new Map(graph);
    cyclic.set('engine/devices/run-placement.ts', [...graph.get('engine/devices/run-placement.ts')!, 'engine/devices/place-workflow.ts']);
    expect(findCycle([...cyclic.keys()], cyclic)).toEqual(
      expect.arrayContaining(['engine/devices/place-workflow.ts', 'engine/devices/run-placement.ts']),
    );
  });

  it('keeps engine/index.ts a re-export that no engine module imports', () => {
    const importers = [...graph].filter(([file, targets]) => file.startsWith('engine/') && targets.includes('engine/index.ts'));
    expect(importers.map(([file]) => file)).toEqual([]);
    const entry = readFileSync(join(REPO, 'engine/index.ts'), 'utf8').replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '');
    expect(
      entry
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== '' && !/^export\s+(type\s+)?(\{[^}]*\}|\*)\s+from\s+'[^']+'$/.test(s)),
    ).toEqual([]);
  });
});
