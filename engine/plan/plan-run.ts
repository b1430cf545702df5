// Owns the plan of a whole workflow: each step in topological order with its decision, its inputs'
// wiring, and why it will run. Pure, given PlanFacts.
import type { Workflow } from '../workflow/workflow.js';
import type { Sha256Hex } from '../util/sha256.js';
import { decideStep, type PlanFacts, type StepDecision, type StepInputs } from './decide-step.js';

export interface PlanEntry {
  step: string;
  uses: string;
  decision: StepDecision;
  inputs: Record<string, { step: string; port: string }>;
  needs: string[];
}

/** Resolves a step's input artifacts from the outputs of upstream steps known so far. */
export function stepInputs(
  wires: Record<string, { step: string; port: string }>,
  outputsOf: (step: string) => Record<string, Sha256Hex> | undefined,
): StepInputs {
  const known: Record<string, Sha256Hex> = {};
  for (const [port, wire] of Object.entries(wires)) {
    const outputs = outputsOf(wire.step);
    if (outputs === undefined) return { pendingOn: wire.step };
    known[port] = outputs[wire.port]!;
  }
  return { known };
}

export function planRun(workflow: Workflow, facts: PlanFacts): PlanEntry[] {
  const outputs = new Map<string, Record<string, Sha256Hex>>();
  return workflow.steps.map((step) => {
    const decision = decideStep(
      workflow,
      step,
      stepInputs(step.inputs, (s) => outputs.get(s)),
      facts,
    );
    if (decision.status === 'cached') outputs.set(step.id, decision.record.outputs);
    return { step: step.id, uses: step.uses, decision, inputs: step.inputs, needs: step.needs };
  });
}
