// Owns the record of a completed step: written last, atomically, once every output is durable. Its
// presence under the cache key is what makes the step cached.
import type { StepSummary } from '../plugin-api/step-plugin.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { InputFileLists } from './diff-input-files.js';
import type { Fingerprint } from './fingerprint.js';

export interface ExternalOutput {
  path: string;
  digest: Sha256Hex;
}

export interface StepRecord {
  schema: 1;
  key: Sha256Hex;
  fingerprint: Fingerprint;
  /**
   * Each file a glob, folder or gs:// path param named (content digest, or generation), so the next plan
   * can say which of them changed. Not part of the key; absent from records of an older Strand.
   */
  inputFiles?: InputFileLists;
  /** Manifest digest of each output artifact. */
  outputs: Record<string, Sha256Hex>;
  external: ExternalOutput[];
  summary: StepSummary;
  workflow: string;
  step: string;
  durationMs: number;
  finishedAt: string;
}

/** An output artifact: its shards in order, and the facts that travel with it. */
export interface ArtifactManifest {
  schema: 1;
  type: string;
  shards: { index: number; digest: Sha256Hex; rows: number }[];
  meta: Record<string, unknown>;
}
