// Owns the tokens per sequence a step placed on devices is estimated and pre-flighted at: `tokens:` when
// the step says, else DEFAULT_TOKENS, and never more than the cap of the tokenizer that feeds it
// (StepPlugin.maxTokens of the step wired to its `tokens` input: `max_tokens:`, else the vocabulary's). No
// row is longer than that cap, so a length bucket past it is never run: the pre-flight does not compile one,
// and the formula does not size memory for one. Pure.
import type { StepSpec, Workflow } from '../workflow/workflow.js';

/** Tokens per sequence when the step does not say (`tokens:`) and no tokenizer's cap is lower. */
export const DEFAULT_TOKENS = 1000;

export function tokensPerSequence(step: StepSpec, workflow: Workflow): number {
  const asked = step.placement.tokens ?? DEFAULT_TOKENS;
  const cap = tokenizerCap(step, workflow);
  return cap === undefined ? asked : Math.min(asked, cap);
}

// Each workflow's steps by id, made once when a step first asks: placing 100,000 device steps must not look
// each producer up by a scan of the steps.
const stepsById = new WeakMap<Workflow, ReadonlyMap<string, StepSpec>>();

function stepById(workflow: Workflow, id: string): StepSpec | undefined {
  let byId = stepsById.get(workflow);
  if (byId === undefined) stepsById.set(workflow, (byId = new Map(workflow.steps.map((s) => [s.id, s]))));
  return byId.get(id);
}

/**
 * The longest row any of the step's `tokens` inputs can hold: the largest of their tokenizers' caps, none when
 * one of them has no cap (a plugin without `maxTokens`, or one that does not answer with a whole number).
 */
function tokenizerCap(step: StepSpec, workflow: Workflow): number | undefined {
  let cap: number | undefined;
  for (const [port, wire] of Object.entries(step.inputs)) {
    if (step.plugin.inputs[port]?.type !== 'tokens') continue;
    const producer = stepById(workflow, wire.step);
    const own = producer === undefined ? undefined : capOf(producer);
    if (own === undefined) return undefined;
    cap = Math.max(cap ?? 0, own);
  }
  return cap;
}

function capOf(producer: StepSpec): number | undefined {
  try {
    const cap = producer.plugin.maxTokens?.(producer.params);
    return Number.isInteger(cap) && cap! >= 1 ? cap : undefined;
  } catch {
    return undefined; // the step's own run reports what is wrong with its params
  }
}
