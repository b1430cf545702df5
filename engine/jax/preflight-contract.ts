// Owns the pre-flight's request and answer as the engine types them, checked at run time against the one
// JSON Schema the Python side checks too (runtime/jax/src/strand_jax/preflight.schema.json).
import type { Mesh } from '../devices/estimate-placement.js';
import { fail, type Result } from '../util/result.js';
import { checkRuntimeValue } from './runtime-schema.js';
import type { TrainSettings } from './jax-job.js';

export interface PreflightRequest {
  /** A program the runtime registers (preflight_programs.py): embed-forward, train-step. */
  program: string;
  /** libtpu's topology name, e.g. v5e:2x2 (tpu-topology.ts). */
  topology: string;
  mesh: Mesh;
  /** Per-device batch, or auto: the largest that compiles and fits. */
  batch: number | 'auto';
  max_batch?: number;
  /** The longest row; the runtime's length buckets up to it are each compiled (only the longest where it does not fit). */
  max_length: number;
  precision: 'fp32' | 'bf16';
  hbm_bytes?: number;
  /** The model's config.json, parsed: shapes only, no weights. */
  model: { config: Record<string, unknown> };
  pooling?: { pooling?: 'mean' | 'cls' | 'max'; include_cls?: boolean; prefix?: number; normalize?: boolean };
  /** train-step: the job's settings (jax_job.schema.json TrainSettings). */
  options?: TrainSettings;
  fixes?: boolean;
  /** Compile the longest bucket only (the bench: full-size models compile for minutes each). */
  longest_only?: boolean;
}

export interface PreflightMemory {
  argument_bytes: number;
  output_bytes: number;
  temp_bytes: number;
  alias_bytes: number;
  generated_code_bytes: number;
  total_bytes: number;
}

export interface PreflightBucket {
  length: number;
  fits: boolean;
  compile_seconds: number;
  memory?: PreflightMemory;
  xla?: { message: string; required_bytes?: number; available_bytes?: number };
  flops?: { per_device: number; per_sequence: number; rolled_per_device: number };
}

export interface PreflightFix {
  change: { per_device_batch?: number; precision?: 'fp32' | 'bf16'; mesh?: Mesh };
  length: number;
  total_bytes: number;
}

export interface PreflightAnswer {
  kind: 'preflight-answer';
  program: string;
  topology: string;
  device_kind: string;
  devices: number;
  mesh: Mesh;
  precision: 'fp32' | 'bf16';
  per_device_batch: number;
  batch_search?: { method: string; limit: number; tried: { per_device_batch: number; fits: boolean }[] };
  fits: boolean;
  buckets: PreflightBucket[];
  flops_counting: string;
  fixes: PreflightFix[];
  compilations: number;
  compile_seconds: number;
}

export interface PreflightFailure {
  kind: 'preflight-failure';
  reason: 'no-libtpu' | 'libtpu-error' | 'bad-request' | 'compile-error';
  message: string;
}

export type PreflightReply = PreflightAnswer | PreflightFailure;

type Kind = 'PreflightRequest' | 'PreflightAnswer' | 'PreflightFailure';

/** The value if it is a valid `kind`; else the first problem, with its path. */
export function checkPreflight<T>(kind: Kind, value: unknown): Result<T, string> {
  return checkRuntimeValue<T>('preflight', kind, value);
}

/** A reply line of `python -m strand_jax preflight`, checked as an answer or a failure. */
export function parsePreflightReply(line: string): Result<PreflightReply, string> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail(`not JSON: ${line.slice(0, 120)}`);
  }
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === 'preflight-failure'
    ? checkPreflight<PreflightFailure>('PreflightFailure', value)
    : checkPreflight<PreflightAnswer>('PreflightAnswer', value);
}
