// Owns the value loading resolves once per step and everything after it reads — plan, pre-flight, run,
// watch, the remote job: where the step computes (`run`, the step context's placement), with what model
// facts and estimate, and whether XLA's figures replaced the formula's. Pure.
import type { Runtime, RunPlacement } from '../plugin-api/run-placement.js';
import type { SequenceCount } from '../plugin-api/step-plugin.js';
import type { PreflightAnswer } from '../jax/preflight-contract.js';
import type { Placement } from './device-catalog.js';
import type { PlacementEstimate } from './estimate-placement.js';
import type { FactName, ModelFacts } from './model-facts.js';

export type PreflightOutcome =
  | {
      source: 'xla';
      /** The answer came from STATE/preflight (no compilation this time). */
      cached: boolean;
      /** One host's topology and mesh: each host runs its own program over its chips. */
      topology: string;
      hosts: number;
      answer: PreflightAnswer;
    }
  | { source: 'formula'; why: string };

export interface StepPlacementPlan {
  placement: Placement;
  /** What computes the step there (step-runtime.ts). */
  runtime: Runtime;
  /** The effective precision: `precision:`, else fp32 on a CPU, bf16 on an accelerator; fp32 outside JAX. */
  precision: 'fp32' | 'bf16';
  /** The tokens per sequence its estimate and pre-flight use (tokens-per-sequence.ts), for a step on XLA devices. */
  tokens?: number;
  /** The model's facts and where each came from, when the step has a model. */
  facts?: ModelFacts;
  /** Facts the estimate needs that nothing gave: their part of it is left out (and a warning says so). */
  unknown?: FactName[];
  estimate?: PlacementEstimate;
  /** Whether XLA's compiled figures replaced the formula's (preflight-placements.ts), and if not why. */
  preflight?: PreflightOutcome;
  /** How many sequences the step will see, when known at plan time (count-step-sequences.ts). */
  sequences?: SequenceCount;
  /** The placement the step computes with (run-placement.ts), resolved from the rest of this plan. */
  run: RunPlacement;
}

/** The nodes of a placement with `replicas:`, as plan shows them: `8 shards over 3 nodes: 3, 3, 2`. */
export function describeNodes(nodes: PlacementEstimate['nodes']): string | undefined {
  if (nodes === undefined) return undefined;
  const per = nodes.shardsPerNode;
  return per === undefined
    ? `${nodes.replicas} nodes`
    : `${per.reduce((a, b) => a + b, 0)} shards over ${nodes.replicas} nodes: ${per.join(', ')}`;
}

/**
 * The placement as plan, run and reports show it. A step with no JAX implementation on a TPU computes on
 * the hosts' CPUs in Strand's process, and says so rather than showing a mesh it does not use.
 */
export function describePlacement(plan: Omit<StepPlacementPlan, 'run'> | undefined): string {
  if (plan === undefined) return 'local cpu';
  if (plan.placement.kind === 'tpu' && plan.runtime !== 'jax') return `host CPUs of ${plan.placement.label} (in Strand's process, fp32)`;
  const e = plan.estimate;
  if (e === undefined) return plan.placement.label;
  return `${plan.placement.label} mesh ${e.mesh.data}x${e.mesh.fsdp}x${e.mesh.tp} batch ${e.perDeviceBatch}/dev`;
}
