// Owns finding the `with:` params that name files, from the plugin schema's `x-strand-path` marks (and
// `x-strand-uri`: the URI schemes a param also takes, such as `["gs"]`; `x-strand-uri-remote`: those it
// takes only on a remote device, whose hosts read them), and telling a URI (gs://bucket/x) from a local path.
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

export function pathParams(step: Pick<StepSpec, 'plugin' | 'params'>): PathParam[] {
  const properties = (step.plugin.with.properties ?? {}) as Record<
    string,
    { 'x-strand-path'?: 'input' | 'output'; 'x-strand-uri'?: string[]; 'x-strand-uri-remote'?: string[]; 'x-strand-format'?: string }
  >;
  const found: PathParam[] = [];
  for (const [key, schema] of Object.entries(properties)) {
    const direction = schema['x-strand-path'];
    const value = step.params[key];
    if (direction === undefined || value === undefined) continue;
    for (const path of Array.isArray(value) ? value : [value]) {
      if (typeof path === 'string')
        found.push({
          key,
          path,
          direction,
          schemes: schema['x-strand-uri'] ?? [],
          remoteSchemes: schema['x-strand-uri-remote'] ?? [],
          ...(schema['x-strand-format'] === 'onnx' || schema['x-strand-format'] === 'model' ? { format: schema['x-strand-format'] } : {}),
        });
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
