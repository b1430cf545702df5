// Owns reading YAML text into a plain value while keeping every node's position, so that any later
// check can point at file:line:column. Alias expansion is bounded (billion-laughs files are refused).
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { errorAt, type Diagnostic, type SourceLocation } from '../diagnostics/diagnostic.js';

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

export function parseYamlSource(file: string, text: string): { source?: YamlSource; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const at = (offset: number, length: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(Math.min(offset, text.length));
    return { file, line, column: col, length: Math.max(1, length) };
  };
  const diagnostics: Diagnostic[] = [];
  for (const error of doc.errors) {
    const [start, end] = error.pos;
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    diagnostics.push(
      errorAt('yaml-syntax', at(start, end - start), `YAML syntax: ${message}`, 'fix the YAML at this position (indentation, quotes, a missing ":")'),
    );
  }
  if (diagnostics.length > 0) return { diagnostics };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return {
      diagnostics: [
        errorAt('yaml-alias-limit', at(0, 1), `YAML aliases expand too far (${(error as Error).message})`, `a workflow may expand at most ${MAX_ALIAS_COUNT} aliases; write the values out instead`),
      ],
    };
  }
  const locate = (path: YamlPath, target: 'key' | 'value' = 'value'): SourceLocation => {
    const found = findNode(doc, path, target);
    const range = found?.range;
    if (range === undefined || range === null) return at(0, 1);
    return at(range[0], rangeLength(text, range[0], range[1]));
  };
  return { source: { file, text, value, locate }, diagnostics };
}

function rangeLength(text: string, start: number, end: number): number {
  const newline = text.indexOf('\n', start);
  return (newline === -1 || newline > end ? end : newline) - start;
}

function findNode(doc: Document, path: YamlPath, target: 'key' | 'value'): Node | undefined {
  let node: unknown = doc.contents;
  let best = node as Node | undefined;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) return best;
      if (last && target === 'key') return pair.key as Node;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) return best;
    } else {
      return best;
    }
    best = node as Node;
  }
  return best;
}
