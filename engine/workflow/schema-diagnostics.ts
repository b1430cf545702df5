// Owns checking a parsed workflow against the JSON Schema with ajv and turning ajv's errors into
// located diagnostics (unknown keys with "did you mean", wrong types, missing keys, bad values).
import type { ErrorObject } from 'ajv';
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { JsonSchema } from '../plugin-api/step-plugin.js';
import { schemaValidator } from './schema-validator.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

const NAME_HINT = 'names use letters, digits, "_" and "-", and start with a letter or "_"';
/** Hints for the values (not names) a pattern constrains, by key. */
const PATTERN_HINTS: Record<string, string> = {
  bucket: 'a Cloud Storage location gs://BUCKET/PREFIX; bucket names have 3-63 lowercase letters, digits, "-", "_" or "."',
};

function toPath(pointer: string): YamlPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function dotted(path: YamlPath): string {
  return path.length === 0 ? 'the workflow' : path.join('.');
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(root: unknown, path: YamlPath): unknown {
  let node = root;
  for (const segment of path) node = (node as Record<string | number, unknown> | undefined)?.[segment];
  return node;
}

function toDiagnostic(error: ErrorObject, source: YamlSource, value: unknown): Diagnostic | undefined {
  const path = toPath(error.instancePath);
  const where = dotted(path);
  // A bad `uses` string is reported once, by plugin resolution, with a "did you mean"; a non-string here.
  if (path[path.length - 1] === 'uses' && path[0] === 'steps' && path.length === 3) {
    if (typeof valueAt(value, path) === 'string' || error.keyword !== 'type') return undefined;
  }
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      const suggestion = didYouMean(key, known);
      return errorAt(
        'unknown-key',
        source.locate([...path, key], 'key'),
        `unknown key "${key}" in ${where}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
        known.length ? `allowed keys: ${known.join(', ')}` : 'remove this key',
      );
    }
    case 'type':
      // A `with:` expression that could not be substituted is reported by the expression checks.
      if (path[0] === 'steps' && path[2] === 'with' && String(valueAt(value, path)).includes('${{')) return undefined;
      return errorAt(
        'wrong-type',
        source.locate(path),
        `${where} must be ${error.params.type}, not ${typeName(valueAt(value, path))}`,
        `write ${where} as ${error.params.type === 'object' ? 'a mapping (key: value)' : error.params.type === 'array' ? 'a list ([a, b])' : `${/^[aeiou]/.test(String(error.params.type)) ? 'an' : 'a'} ${error.params.type}`}`,
      );
    case 'required':
      return errorAt(
        'missing-key',
        source.locate(path, path.length ? 'key' : 'value'),
        `${where} is missing required key "${error.params.missingProperty}"`,
        `add "${error.params.missingProperty}:" to ${where}`,
      );
    case 'enum':
      return errorAt(
        'invalid-value',
        source.locate(path),
        `${where} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        `got ${JSON.stringify(valueAt(value, path))}`,
      );
    case 'const':
      return errorAt(
        'invalid-value',
        source.locate(path),
        `${where} must be ${JSON.stringify(error.params.allowedValue)}`,
        `got ${JSON.stringify(valueAt(value, path))}`,
      );
    case 'pattern':
      return errorAt(
        'invalid-value',
        source.locate(path),
        `${where} ${error.message}`,
        PATTERN_HINTS[String(path[path.length - 1])] ?? NAME_HINT,
      );
    case 'propertyNames':
      return undefined;
    case 'if':
    case 'anyOf':
    case 'allOf':
    case 'then':
      // Wrappers: the specific error inside them is reported; a bad `uses` is reported by plugin resolution.
      return undefined;
    default:
      return errorAt(
        'invalid-value',
        source.locate(path),
        `${where} ${error.message ?? 'is invalid'}`,
        "see the step's parameters with `strand steps`",
      );
  }
}

/**
 * Validates `value` (the parsed file, with params substituted so `k: ${{ params.k }}` is checked as the
 * number it becomes) against `schema`; one diagnostic per distinct problem, located in `source`.
 */
export function checkAgainstSchema(source: YamlSource, schema: JsonSchema, value: unknown): Diagnostic[] {
  const validate = schemaValidator(schema, 'located');
  if (validate(value)) return [];
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const error of validate.errors ?? []) {
    if (error.keyword === 'pattern' && error.propertyName !== undefined) {
      const path = [...toPath(error.instancePath), error.propertyName];
      diagnostics.push(
        errorAt(
          'invalid-value',
          source.locate(path, 'key'),
          `name "${error.propertyName}" in ${dotted(toPath(error.instancePath))} is not allowed`,
          NAME_HINT,
        ),
      );
      continue;
    }
    const diagnostic = toDiagnostic(error, source, value);
    if (diagnostic === undefined) continue;
    const key = `${diagnostic.code}:${diagnostic.location.line}:${diagnostic.location.column}:${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}
