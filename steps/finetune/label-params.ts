// Owns the parameters every taxonomy training step shares (finetune/taxonomy-head, finetune/nt-lora): the
// levels and their loss weights, placeholder masking and the train/validation split. One schema, so both
// steps accept, document and key the same `with:`.
import type { GroupBy } from './split.js';
import { DEFAULT_LEVEL_WEIGHTS, DEFAULT_LEVELS } from './taxonomy-labels.js';

/** As the step receives them: every param with a schema default is filled in (engine/workflow/param-defaults.ts). */
export interface LabelParams {
  levels: string[];
  weights?: Record<string, number>;
  keep_placeholders: boolean;
  val_fraction: number;
  group_by: GroupBy;
  seed: number;
}

export const LABEL_PARAMS_SCHEMA = {
  levels: { type: 'array', items: { type: 'string' }, default: [...DEFAULT_LEVELS] },
  weights: {
    type: 'object',
    additionalProperties: { type: 'number', minimum: 0 },
    description: 'loss weight per level (default kingdom 2.0 ... species 0.6)',
  },
  keep_placeholders: { type: 'boolean', default: false, description: 'keep labels such as Genus_sp or Incertae_sedis (masked by default)' },
  val_fraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.2 },
  group_by: { enum: ['none', 'species', 'genus', 'family'], default: 'none', description: 'hold out whole taxa in validation' },
  seed: { type: 'integer', default: 1 },
} as const;

/** The levels and their loss weights, with the defaults. */
export function levelWeights(p: LabelParams): { levels: string[]; weights: number[] } {
  const levels = p.levels;
  return { levels, weights: levels.map((l) => p.weights?.[l] ?? DEFAULT_LEVEL_WEIGHTS[l] ?? 1) };
}
