// Owns finding the `with:` params that name files, from the plugin schema's `x-strand-path` marks (and
// `x-strand-uri`: the URI schemes a param also takes, such as `["gs"]`; `x-strand-uri-remote`: those it
// takes only on a remote device, whose hosts read them), and telling a URI (gs://bucket/x) from a local path.
import type { JsonSchema } from '../plugin-api/step-plugin.js';
import type { StepSpec } from './workflow.js';

export interface PathParam {
  key: string;
  path: string;
  direction: 'input' | 'output';
  /** URI schemes the param takes besides local paths. */
  schemes: readonly string[];
  /** URI schemes it takes only when the step runs on a remote device (the hosts read the objects). */
  remoteSchemes: readonly string[];
  /**
   * `"x-strand-format": "onnx"`: an ONNX model, whose external data files are part of it. `"model"`: an
   * ONNX file or a model folder (Hugging Face layout: config.json, model.safetensors or pytorch_model.bin,
   * perhaps model.onnx), whose model.onnx, if any, counts as an ONNX model.
   */
  format?: 'onnx' | 'model';
}

type PathProperty = Omit<PathParam, 'path'>;

/** By `with:` schema: its properties that name files (a plugin's schema does not change once declared). */
const pathProperties = new WeakMap<JsonSchema, PathProperty[]>();

function pathPropertiesOf(schema: JsonSchema): PathProperty[] {
  let found = pathProperties.get(schema);
  if (found !== undefined) return found;
  const properties = (schema.properties ?? {}) as Record<
    string,
    { 'x-strand-path'?: 'input' | 'output'; 'x-strand-uri'?: string[]; 'x-strand-uri-remote'?: string[]; 'x-strand-format'?: string }
  >;
  found = [];
  for (const [key, property] of Object.entries(properties)) {
    const direction = property['x-strand-path'];
    if (direction === undefined) continue;
    found.push({
      key,
      direction,
      schemes: property['x-strand-uri'] ?? [],
      remoteSchemes: property['x-strand-uri-remote'] ?? [],
      ...(property['x-strand-format'] === 'onnx' || property['x-strand-format'] === 'model' ? { format: property['x-strand-format'] } : {}),
    });
  }
  pathProperties.set(schema, found);
  return found;
}

export function pathParams(step: Pick<StepSpec, 'plugin' | 'params'>): PathParam[] {
  const found: PathParam[] = [];
  for (const property of pathPropertiesOf(step.plugin.with)) {
    const value = step.params[property.key];
    if (value === undefined) continue;
    for (const path of Array.isArray(value) ? value : [value]) {
      if (typeof path === 'string') {
        const { key, direction, schemes, remoteSchemes, format } = property;
        found.push({ key, path, direction, schemes, remoteSchemes, ...(format !== undefined ? { format } : {}) });
      }
    }
  }
  return found;
}

/** The scheme of a URI such as `gs://bucket/x` or `s3://b/k`; undefined for a local path (`C:\\x` too). */
export function uriScheme(path: string): string | undefined {
  return /^([a-zA-Z][a-zA-Z0-9+.-]+):\/\//.exec(path)?.[1]?.toLowerCase();
}

/** Whether the param takes URIs of `scheme` (anywhere, or on a remote device). */
export function takesScheme(param: Pick<PathParam, 'schemes' | 'remoteSchemes'>, scheme: string): boolean {
  return param.schemes.includes(scheme) || param.remoteSchemes.includes(scheme);
}
