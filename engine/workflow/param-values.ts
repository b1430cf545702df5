// Owns the values of workflow params: `--param` overrides, the environment (for `env:` and secrets),
// and defaults, each checked against the declared type.
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { ParamSpec, ParamType } from './workflow.js';
import type { YamlSource } from './yaml-source.js';

export type ParamValue = string | number | boolean;

function parseAs(type: ParamType, raw: string): ParamValue | undefined {
  switch (type) {
    case 'string':
      return raw;
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
    case 'integer':
      return /^-?\d+$/.test(raw.trim()) ? Number(raw) : undefined;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    default: {
      const unreachable: never = type;
      throw new Error(`unknown param type ${String(unreachable)}`);
    }
  }
}

function matchesType(type: ParamType, value: unknown): boolean {
  if (type === 'integer') return Number.isInteger(value);
  return typeof value === type;
}

export interface ParamValueResult {
  values: Record<string, ParamValue>;
  secrets: string[];
  diagnostics: Diagnostic[];
}

export function resolveParamValues(
  source: YamlSource,
  specs: Record<string, ParamSpec>,
  overrides: Record<string, string>,
  env: Record<string, string | undefined>,
): ParamValueResult {
  const values: Record<string, ParamValue> = {};
  const secrets: string[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const name of Object.keys(overrides)) {
    if (!(name in specs)) {
      const suggestion = didYouMean(name, Object.keys(specs));
      diagnostics.push(
        errorAt(
          'unknown-param',
          source.locate(['params'], 'key'),
          `--param ${name}: the workflow has no param "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          `declared params: ${Object.keys(specs).join(', ') || 'none'}`,
        ),
      );
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const raw = overrides[name] ?? (spec.env !== undefined ? env[spec.env] : undefined);
    let value: ParamValue | undefined;
    if (raw !== undefined) {
      value = parseAs(spec.type, raw);
      if (value === undefined) {
        const from = overrides[name] !== undefined ? `--param ${name}` : `environment variable ${spec.env}`;
        diagnostics.push(
          errorAt(
            'invalid-param-override',
            source.locate(['params', name], 'key'),
            `${from}: ${spec.secret ? 'value' : JSON.stringify(raw)} is not a ${spec.type}`,
            `give ${name} a ${spec.type} value`,
          ),
        );
        continue;
      }
    } else if (spec.default !== undefined) {
      if (!matchesType(spec.type, spec.default)) {
        diagnostics.push(
          errorAt(
            'param-type',
            source.locate(['params', name, 'default']),
            `default of param "${name}" is not a ${spec.type}`,
            `write a ${spec.type}, or change type:`,
          ),
        );
        continue;
      }
      value = spec.default;
    } else {
      const how =
        spec.env !== undefined
          ? `set ${spec.env} in the environment or pass --param ${name}=...`
          : `pass --param ${name}=... or add a default:`;
      diagnostics.push(errorAt('missing-param', source.locate(['params', name], 'key'), `param "${name}" has no value`, how));
      continue;
    }
    values[name] = value;
    if (spec.secret === true && typeof value === 'string' && value !== '') secrets.push(value);
  }
  return { values, secrets, diagnostics };
}
