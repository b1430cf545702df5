// Owns the types of a checked workflow: what `loadWorkflow` returns once every diagnostic is clear.
import type { StepPlugin } from '../index.js';

export type ParamType = 'string' | 'number' | 'integer' | 'boolean';

export interface ParamSpec {
  type: ParamType;
  default?: string | number | boolean;
  description?: string;
  /** A secret is read from `env`, redacted from all output and never part of a cache key. */
  secret?: boolean;
  env?: string;
}

/** An input port wired to an upstream step's output port. */
export interface PortWire {
  step: string;
  port: string;
}

export interface StepSpec {
  id: string;
  uses: string;
  plugin: StepPlugin;
  needs: string[];
  /** `with:` as written, expressions unresolved. */
  with: Record<string, unknown>;
  /** `with:` after `${{ params.X }}` substitution. */
  params: Record<string, unknown>;
  /** `with:` as it enters the cache key: secrets replaced by `[secret:NAME]`. */
  keyParams: Record<string, unknown>;
  inputs: Record<string, PortWire>;
}

export interface Workflow {
  file: string;
  name: string;
  params: Record<string, ParamSpec>;
  /** Resolved parameter values (defaults, environment for secrets, `--param` overrides). */
  paramValues: Record<string, string | number | boolean>;
  /** Secret values to redact from output. */
  secrets: string[];
  /** In topological order (ties broken by file order). */
  steps: StepSpec[];
}
