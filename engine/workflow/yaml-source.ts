// Owns reading YAML text into a plain value while keeping a way to find every node's position, so
// that any later check can point at file:line:column.
//
// Two parsers, one result. The `yaml` library keeps node positions and reports every syntax error with
// its position; js-yaml (core schema) reads a valid file an order of magnitude faster. A file that
// js-yaml accepts is located lazily — the `yaml` Document is built only when a diagnostic needs a
// position. A file it rejects, or one with aliases (whose expansion must be bounded: billion-laughs
// files are refused), goes through `yaml`. Before either, parseSimpleYaml reads a file of plain
// mappings (most workflow files) to the value js-yaml would give, faster still (parse-simple-yaml.ts).
//
// Why both (`npm run bench -- yaml-parse`): on plan-scale's 10,000-step workflow (1.3 MB) this
// function takes 0.84 s on the js-yaml path and 10.4 s on the `yaml` path (12x; the library calls
// alone, 0.3-0.4 s against 8.6-9.1 s). With `yaml` alone, `strand plan` of 10,000 steps (1.5 s in
// docs/benchmarks.md, 0.064 of `snakemake -n`'s 23 s) would take over 10 s and miss its target
// of at most a tenth of snakemake's time. Measured on a shared 2-core machine; the ratio is the point.
import { load as loadFast, CORE_SCHEMA } from 'js-yaml';
import type { Document, Node, Pair, YAMLMap } from 'yaml';
import { errorAt, type Diagnostic, type SourceLocation } from '../diagnostics/diagnostic.js';
import { withoutByteOrderMark } from '../util/byte-order-mark.js';
import { lazyRequire } from '../util/lazy-require.js';
import { parseSimpleYaml } from './parse-simple-yaml.js';

/** The `yaml` library, loaded the first time a file needs positions (a valid workflow never does). */
const yaml = lazyRequire<typeof import('yaml')>('yaml');

export type YamlPath = readonly (string | number)[];

export interface YamlSource {
  file: string;
  text: string;
  value: unknown;
  /** Where the value (or, with `'key'`, the key) at `path` is; the nearest existing ancestor if it is absent. */
  locate(path: YamlPath, target?: 'key' | 'value'): SourceLocation;
}

/** Aliases a document may expand; a billion-laughs file needs millions. */
export const MAX_ALIAS_COUNT = 1000;

/** An alias (`*name`) where a value may start; a false positive only costs the slower parser. */
const ALIAS = /(^|[\s[{,:-])\*[^\s,\]}]/m;

interface PositionedDocument {
  doc: Document;
  at: (offset: number, length: number) => SourceLocation;
}

function positioned(file: string, text: string): PositionedDocument {
  const lineCounter = new (yaml().LineCounter)();
  // The yaml library's own duplicate-key check is quadratic in a map's size; ours below is linear.
  const doc = yaml().parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  const at = (offset: number, length: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(Math.min(offset, text.length));
    return { file, line, column: col, length: Math.max(1, length) };
  };
  return { doc, at };
}

function syntaxDiagnostics({ doc, at }: PositionedDocument): Diagnostic[] {
  const diagnostics: Diagnostic[] = doc.errors.map((error) => {
    const [start, end] = error.pos;
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return errorAt(
      'yaml-syntax',
      at(start, end - start),
      `YAML syntax: ${message}`,
      'fix the YAML at this position (indentation, quotes, a missing ":")',
    );
  });
  if (diagnostics.length > 0) return diagnostics;
  const walk = (node: unknown): void => {
    if (yaml().isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (yaml().isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (seen.has(key)) {
            const [start, end] = pair.key.range ?? [0, 1];
            diagnostics.push(
              errorAt(
                'yaml-syntax',
                at(start, end - start),
                `YAML syntax: duplicate key "${key}"`,
                'each key may appear once in a mapping; remove or rename one',
              ),
            );
          }
          seen.add(key);
        }
        walk(pair.value);
      }
    } else if (yaml().isSeq(node)) node.items.forEach(walk);
  };
  walk(doc.contents);
  return diagnostics;
}

function locator(file: string, text: string, known?: PositionedDocument): YamlSource['locate'] {
  let document = known;
  return (path, target = 'value') => {
    document ??= positioned(file, text);
    const range = findNode(document.doc, path, target)?.range;
    if (range === undefined || range === null) return document.at(0, 1);
    return document.at(range[0], rangeLength(text, range[0], range[1]));
  };
}

export function parseYamlSource(file: string, read: string): { source?: YamlSource; diagnostics: Diagnostic[] } {
  // Positions count from the text after a byte-order mark, as editors show it.
  const text = withoutByteOrderMark(read);
  // Most workflow files are plain mappings, read faster than js-yaml can, to the same value.
  const simple = parseSimpleYaml(text);
  if (simple !== undefined) return { source: { file, text, value: simple.value, locate: locator(file, text) }, diagnostics: [] };
  if (!ALIAS.test(text)) {
    try {
      const value = loadFast(text, { schema: CORE_SCHEMA, filename: file }) ?? null;
      return { source: { file, text, value, locate: locator(file, text) }, diagnostics: [] };
    } catch {
      // Reported with positions by the `yaml` library below.
    }
  }
  const document = positioned(file, text);
  const diagnostics = syntaxDiagnostics(document);
  if (diagnostics.length > 0) return { diagnostics };
  let value: unknown;
  try {
    value = document.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return {
      diagnostics: [
        errorAt(
          'yaml-alias-limit',
          document.at(0, 1),
          `YAML aliases expand too far (${(error as Error).message})`,
          `a workflow may expand at most ${MAX_ALIAS_COUNT} aliases; write the values out instead`,
        ),
      ],
    };
  }
  return { source: { file, text, value, locate: locator(file, text, document) }, diagnostics };
}

function rangeLength(text: string, start: number, end: number): number {
  const newline = text.indexOf('\n', start);
  return (newline === -1 || newline > end ? end : newline) - start;
}

const pairIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

/** The pair of `key` in a map, through an index built on first use (locating is then O(depth)). */
function pairOf(map: YAMLMap, key: string): Pair | undefined {
  let index = pairIndexes.get(map);
  if (index === undefined) {
    index = new Map();
    for (const pair of map.items)
      if (yaml().isScalar(pair.key) && !index.has(String(pair.key.value))) index.set(String(pair.key.value), pair);
    pairIndexes.set(map, index);
  }
  return index.get(key);
}

function findNode(doc: Document, path: YamlPath, target: 'key' | 'value'): Node | undefined {
  let node: unknown = doc.contents;
  let best = node as Node | undefined;
  for (let i = 0; i < path.length; i++) {
    if (yaml().isAlias(node)) node = node.resolve(doc);
    const segment = path[i];
    const last = i === path.length - 1;
    if (yaml().isMap(node)) {
      const pair = pairOf(node, String(segment));
      if (pair === undefined) return best;
      if (last && target === 'key') return pair.key as Node;
      node = pair.value ?? pair.key;
    } else if (yaml().isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) return best;
    } else {
      return best;
    }
    best = node as Node;
  }
  return best;
}
