// Owns the `wandb:` param of the training steps (finetune/nt-lora, finetune/taxonomy-head): which W&B run
// their metrics go to, and where W&B writes its run folder. An execution setting (never in the cache key):
// it changes where the metrics are shown, not the trained artifact, so turning it on or renaming the run
// reuses a cached head; a cached step trains nothing and so logs nothing. The API key is not a param: W&B
// reads WANDB_API_KEY from the environment of the process that logs (docs/fine-tuning.md).
import type { WandbSettings } from '../../engine/index.js';

export interface WandbParams {
  project: string;
  entity?: string;
  name?: string;
  mode: 'online' | 'offline';
  dir: string;
}

export const WANDB_PARAM_SCHEMA = {
  wandb: {
    type: 'object',
    additionalProperties: false,
    required: ['project', 'mode'],
    properties: {
      project: { type: 'string', minLength: 1, description: 'the W&B project' },
      entity: { type: 'string', minLength: 1, description: "the W&B user or team (default: the API key's)" },
      name: { type: 'string', minLength: 1, description: 'the run name (default: one W&B makes up)' },
      mode: {
        enum: ['online', 'offline'],
        description: 'online: stream to W&B (WANDB_API_KEY from the environment); offline: write the run folder for `wandb sync`',
      },
      dir: {
        type: 'string',
        default: '.',
        description: 'W&B writes its run folder under DIR/wandb/ (offline-run-TIME-ID for `wandb sync`), relative to the workflow file',
      },
    },
    description: 'log the metrics (each step and evaluation) and the run config to Weights & Biases (execution setting)',
  },
} as const;

/** The job's settings: what W&B needs to start the run (no path, no key). */
export function wandbSettings(p: WandbParams): WandbSettings {
  return { project: p.project, entity: p.entity ?? null, name: p.name ?? null, mode: p.mode };
}

/** The line a step logs once its W&B run is written. */
export function wandbRunText(mode: WandbParams['mode'], folder: string): string {
  return mode === 'offline'
    ? `W&B offline run written to ${folder} (upload it with: wandb sync ${folder})`
    : `W&B run logged (local copy: ${folder})`;
}
