// Owns counting what trains in a LoRA fine-tune (the train-step program's TrainSettings): rank x (in + out)
// per targeted projection per layer, from the model's shape. The taxonomy head on top (hidden x classes per
// level) is known only once the labels are read, and is left out: a few MB beside the base. Pure.
import type { TrainSettings } from '../jax/jax-job.js';
import { ASSUMED_FFN_PER_HIDDEN } from './estimate-placement.js';
import type { ModelFacts } from './model-facts.js';

/** The adapters' parameters, or undefined when the model's layers or hidden size are unknown. */
export function loraTrainedParameters(lora: TrainSettings['lora'], model: ModelFacts): number | undefined {
  const { layers, hidden } = model;
  if (layers === undefined || hidden === undefined) return undefined;
  const ffn = model.ffn ?? ASSUMED_FFN_PER_HIDDEN * hidden;
  const sides: Record<string, number> = {
    query: 2 * hidden,
    key: 2 * hidden,
    value: 2 * hidden,
    attention_output: 2 * hidden,
    intermediate: hidden + ffn,
    output: ffn + hidden,
  };
  return layers * lora.rank * lora.targets.reduce((sum, target) => sum + (sides[target] ?? 0), 0);
}
