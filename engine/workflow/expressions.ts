// Owns `${{ }}` expressions, the one place that knows their syntax: finding them in strings (and in
// every string of a value), parsing their forms (`params.NAME`, `steps.ID.outputs.PORT`, a recipe's
// `inputs.PORT`), reading a string that is exactly one reference, writing a step-output reference
// back as text, and substituting parameter values.
import type { SourceLocation } from '../diagnostics/diagnostic.js';
import { copyValue, mapStrings, visitStrings } from './map-strings.js';
import type { PortWire } from './workflow.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

export type Expression =
  | { kind: 'param'; name: string }
  | { kind: 'step-output'; step: string; port: string }
  /** Only inside recipes: the data the calling step passes in. */
  | { kind: 'recipe-input'; port: string };

export interface ExpressionMatch {
  /** Offset of `${{` in the string. */
  offset: number;
  length: number;
  source: string;
  expression?: Expression;
}

const EXPRESSION = /\$\{\{(.*?)\}\}/g;
const PARAM = /^params\.([A-Za-z_][A-Za-z0-9_-]*)$/;
// Step ids may be namespaced by recipe expansion (`embed.tokenize`).
const STEP_OUTPUT = /^steps\.([A-Za-z_][A-Za-z0-9_.-]*?)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)$/;
const RECIPE_INPUT = /^inputs\.([A-Za-z_][A-Za-z0-9_-]*)$/;
/** What `.` in EXPRESSION does not match. */
const LINE_BREAK = /[\n\r\u2028\u2029]/;

function parseBody(body: string): Expression | undefined {
  const param = PARAM.exec(body);
  if (param) return { kind: 'param', name: param[1]! };
  const step = STEP_OUTPUT.exec(body);
  if (step) return { kind: 'step-output', step: step[1]!, port: step[2]! };
  const input = RECIPE_INPUT.exec(body);
  return input ? { kind: 'recipe-input', port: input[1]! } : undefined;
}

/** Every `${{ }}` in `text`, in order; an unclosed `${{` is a last match without an expression. */
export function findExpressions(text: string): ExpressionMatch[] {
  // Most strings hold none: skip the regex iterator (100,000 steps' strings are scanned several times).
  if (!text.includes('${{')) return [];
  const matches: ExpressionMatch[] = [];
  for (const m of text.matchAll(EXPRESSION)) {
    const expression = parseBody(m[1]!.trim());
    matches.push({ offset: m.index, length: m[0].length, source: m[0], ...(expression ? { expression } : {}) });
  }
  const unclosed = text.indexOf('${{', matches.length ? matches[matches.length - 1]!.offset + 3 : 0);
  if (unclosed !== -1 && !matches.some((m) => m.offset === unclosed)) {
    matches.push({ offset: unclosed, length: text.length - unclosed, source: text.slice(unclosed) });
  }
  return matches;
}

/** Every expression in every string inside `value`, with the YAML path of its string (`path` is where `value` sits). */
export function expressionsIn(value: unknown, path: YamlPath): { path: YamlPath; match: ExpressionMatch }[] {
  const found: { path: YamlPath; match: ExpressionMatch }[] = [];
  if (!holdsExpression(value)) return found;
  visitStrings(
    value,
    (text, at) => {
      for (const match of findExpressions(text)) found.push({ path: at(), match });
    },
    path,
  );
  return found;
}

/** The expression `value` is when it is a string of exactly one (`"${{ steps.a.outputs.b }}"`, not `"x${{ … }}"`). */
export function parseReference(value: unknown): Expression | undefined {
  if (typeof value !== 'string') return undefined;
  // The usual `${{ steps.a.outputs.b }}`, told without the scan (100,000s of inputs are wired by it): `${{`
  // only at the start, the first `}}` at the end and no line break between is exactly one whole match.
  const last = value.length - 2;
  if (value.startsWith('${{') && value.indexOf('}}', 3) === last && value.indexOf('${{', 3) === -1 && !LINE_BREAK.test(value))
    return parseBody(value.slice(3, last).trim());
  return wholeExpression(value, findExpressions(value));
}

function wholeExpression(text: string, matches: ExpressionMatch[]): Expression | undefined {
  return matches.length === 1 && matches[0]!.length === text.length ? matches[0]!.expression : undefined;
}

/** The text of a reference to a step output, as a workflow writes it under `inputs:`. */
export function formatStepOutput(wire: PortWire): string {
  return `\${{ steps.${wire.step}.outputs.${wire.port} }}`;
}

/** Narrows the location of the string at `path` to one expression inside it. */
export function locateExpression(source: YamlSource, path: YamlPath, match: ExpressionMatch): SourceLocation {
  const location = source.locate(path);
  const line = source.text.split(/\r?\n/)[location.line - 1] ?? '';
  const index = line.indexOf(match.source, location.column - 1);
  return index === -1 ? location : { ...location, column: index + 1, length: match.source.length };
}

/**
 * Substitutes params in a string. A string that is exactly one expression keeps the param's type
 * (`${{ params.k }}` with k = 6 gives the number 6); otherwise values are interpolated as text. A param
 * without a value stays as written (reported elsewhere).
 */
export function substituteParams(text: string, values: Readonly<Record<string, unknown>>): unknown {
  const matches = findExpressions(text);
  const only = wholeExpression(text, matches);
  if (only?.kind === 'param' && Object.hasOwn(values, only.name)) return values[only.name];
  let result = '';
  let end = 0;
  for (const { offset, length, expression } of matches) {
    if (expression?.kind !== 'param' || !Object.hasOwn(values, expression.name)) continue;
    result += text.slice(end, offset) + String(values[expression.name]);
    end = offset + length;
  }
  return end === 0 ? text : result + text.slice(end);
}

/** Applies `substituteParams` to every string inside a JSON-like value. */
export function resolveParams(value: unknown, values: Readonly<Record<string, unknown>>): unknown {
  // Most steps' with: holds no expression: then the substitution is a plain copy.
  return holdsExpression(value) ? mapStrings(value, (text) => substituteParams(text, values)) : copyValue(value);
}

/** Whether any string inside `value` holds `${{` (the start of an expression, closed or not). */
function holdsExpression(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${{');
  if (Array.isArray(value)) return value.some(holdsExpression);
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) if (holdsExpression((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}
