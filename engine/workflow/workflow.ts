// Owns the types of a checked workflow: what `loadWorkflow` returns once every diagnostic is clear.
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import type { DeviceSpec } from '../devices/device-catalog.js';

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

/** Where and how a step runs (execution settings, except precision, which is numerics). */
export interface StepPlacement {
  on?: string;
  mesh?: { data?: number; fsdp?: number; tp?: number };
  batch?: { global: number } | { per_device: number } | 'auto';
  precision?: 'fp32' | 'bf16';
  tokens?: number;
  /** Facts of the model, over what Strand reads from its file (`model_facts:`). */
  modelFacts?: { parameters?: number; layers?: number; hidden?: number; heads?: number; ffn?: number; trained_parameters?: number };
}

export interface StepSpec {
  id: string;
  uses: string;
  plugin: StepPlugin;
  needs: string[];
  /** `with:` as written, expressions unresolved. */
  with: Record<string, unknown>;
  /** `with:` after `${{ params.X }}` substitution, with the plugin schema's defaults filled in. */
  params: Record<string, unknown>;
  /** `with:` as it enters the cache key: secrets replaced by `[secret:NAME]`, no schema defaults (as written). */
  keyParams: Record<string, unknown>;
  inputs: Record<string, PortWire>;
  placement: StepPlacement;
}

export interface Workflow {
  file: string;
  name: string;
  params: Record<string, ParamSpec>;
  /** Resolved parameter values (defaults, environment for secrets, `--param` overrides). */
  paramValues: Record<string, string | number | boolean>;
  /** Secret values to redact from output. */
  secrets: string[];
  /** Declared devices, by name. */
  devices: Record<string, DeviceSpec>;
  /** In topological order (ties broken by file order). */
  steps: StepSpec[];
}
