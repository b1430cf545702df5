// Owns `${{ }}` expressions: finding them in strings, parsing the two forms
// (`params.NAME`, `steps.ID.outputs.PORT`) and substituting parameter values.

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

export function findExpressions(text: string): ExpressionMatch[] {
  const matches: ExpressionMatch[] = [];
  for (const m of text.matchAll(EXPRESSION)) {
    const body = m[1]!.trim();
    const param = PARAM.exec(body);
    const step = STEP_OUTPUT.exec(body);
    const input = RECIPE_INPUT.exec(body);
    const expression: Expression | undefined = param
      ? { kind: 'param', name: param[1]! }
      : step
        ? { kind: 'step-output', step: step[1]!, port: step[2]! }
        : input
          ? { kind: 'recipe-input', port: input[1]! }
          : undefined;
    matches.push({ offset: m.index, length: m[0].length, source: m[0], ...(expression ? { expression } : {}) });
  }
  const unclosed = text.indexOf('${{', matches.length ? matches[matches.length - 1]!.offset + 3 : 0);
  if (unclosed !== -1 && !matches.some((m) => m.offset === unclosed)) {
    matches.push({ offset: unclosed, length: text.length - unclosed, source: text.slice(unclosed) });
  }
  return matches;
}

/**
 * Substitutes params in a string. A string that is exactly one expression keeps the param's type
 * (`${{ params.k }}` with k = 6 gives the number 6); otherwise values are interpolated as text.
 */
export function substituteParams(text: string, values: Record<string, string | number | boolean>): unknown {
  const matches = findExpressions(text);
  const only = matches[0];
  if (matches.length === 1 && only?.expression?.kind === 'param' && only.length === text.length && only.expression.name in values) {
    return values[only.expression.name];
  }
  return text.replace(EXPRESSION, (whole, body: string) => {
    const param = PARAM.exec(body.trim());
    return param && param[1]! in values ? String(values[param[1]!]) : whole;
  });
}

/** Applies `substituteParams` to every string inside a JSON-like value. */
export function resolveParams(value: unknown, values: Record<string, string | number | boolean>): unknown {
  if (typeof value === 'string') return substituteParams(value, values);
  if (Array.isArray(value)) return value.map((v) => resolveParams(v, values));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveParams(v, values)]));
  }
  return value;
}
