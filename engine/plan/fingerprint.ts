// Owns the cache fingerprint of a step: a versioned record of everything that determines its output.
// The cache key is the SHA-256 of its canonical JSON. Execution settings, run identity and secret
// values are never in it.
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import { sha256OfValue, type Sha256Hex } from '../util/sha256.js';

export const FINGERPRINT_SCHEMA = 1;

export interface Fingerprint {
  /** Version of this record's layout: a change to it invalidates every key. */
  schema: typeof FINGERPRINT_SCHEMA;
  /** The plugin id: a different step computes something different. */
  plugin: string;
  /** The plugin version (plus a content digest for local plugins): new code may compute differently. */
  pluginVersion: string;
  /** Resolved `with:` minus execution and numerics settings, secrets replaced by placeholders. */
  params: Record<string, unknown>;
  /** Manifest digest of each input artifact: upstream data is content, not step identity. */
  inputs: Record<string, Sha256Hex>;
  /**
   * Content digest of each input file named by a param (a model, a Parquet file or glob), by param key;
   * an ONNX model's external data files add `KEY:LOCATION` entries (`model:model.onnx_data`), because
   * the weights of an export over 2 GB live there and a miss should name the file that changed. For a
   * gs:// path, the digest of its listing — each object's name, generation, size, crc32c and md5 — so a
   * replaced object changes the key without a download to hash it. Which files of a glob, folder or gs://
   * path changed is told from the file lists the step record keeps beside this (`StepRecord.inputFiles`).
   */
  files: Record<string, Sha256Hex>;
  /** Numerics settings (precision): they change the numbers even when nothing else does. */
  numerics: Record<string, unknown>;
}

export function computeFingerprint(
  plugin: StepPlugin,
  keyParams: Record<string, unknown>,
  inputs: Record<string, Sha256Hex>,
  files: Record<string, Sha256Hex>,
  stepNumerics: Record<string, unknown> = {},
): Fingerprint {
  const params: Record<string, unknown> = {};
  const numerics: Record<string, unknown> = { ...stepNumerics };
  for (const [key, value] of Object.entries(keyParams)) {
    if (plugin.execution?.includes(key)) continue;
    if (plugin.numerics?.includes(key)) numerics[key] = value;
    else params[key] = value;
  }
  return { schema: FINGERPRINT_SCHEMA, plugin: plugin.id, pluginVersion: plugin.version, params, inputs, files, numerics };
}

export function fingerprintKey(fingerprint: Fingerprint): Sha256Hex {
  return sha256OfValue(fingerprint);
}
