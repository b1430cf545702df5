// Owns a W&B run for a step that trains in TypeScript (finetune/taxonomy-head): `python -m strand_jax
// wandb-log` (runtime/jax wandb_run.py, the client nt-lora's trainer logs with) fed one WandbRow line per
// optimizer step or evaluation on its stdin; closing stdin finishes the run. Chosen over TensorBoard event
// files and `wandb sync --sync-tensorboard` (docs/fine-tuning.md "Weights & Biases"): an online run shows
// curves while the head trains, with the same metric names and client as nt-lora, and needs no TensorBoard
// install. The API key reaches W&B from this process's environment (WANDB_API_KEY), never through a line.
import { checkRuntimeValue } from './runtime-schema.js';
import { startJaxProcess, type JaxEvent } from './jax-process.js';
import type { WandbSettings } from './jax-job.js';

export interface WandbLogOptions {
  settings: WandbSettings;
  /** The run's config as W&B shows it (model, batch, learning rate, ...). */
  config: Record<string, unknown>;
  /** The folder W&B writes its wandb/ run folders under. */
  dir: string;
  signal: AbortSignal;
  env: Record<string, string | undefined>;
}

export interface WandbLog {
  /** W&B's run folder (DIR/wandb/offline-run-… or run-…). */
  folder: string;
  /** One row of metrics at an optimizer step (steps increase). */
  log(step: number, values: Record<string, number>): void;
  /** Finishes the run; resolves once W&B has written it. */
  finish(): Promise<JaxEvent>;
  /** Closes the run without waiting (a step that stopped or failed): W&B finishes it in the background. */
  end(): void;
}

function line(kind: 'WandbLog' | 'WandbRow', value: object): string {
  const checked = checkRuntimeValue<object>('jaxJob', kind, value);
  if (!checked.ok) throw new Error(`bug: an invalid ${kind} line: ${checked.error}`);
  return JSON.stringify(checked.value) + '\n';
}

/** Starts the run; resolves once W&B has started it (a wrong setting fails here, before training). */
export async function startWandbLog(options: WandbLogOptions): Promise<WandbLog> {
  let started: (folder: string) => void = () => undefined;
  const folder = new Promise<string>((resolve) => (started = resolve));
  const process = startJaxProcess(['-m', 'strand_jax', 'wandb-log'], {
    signal: options.signal,
    env: options.env,
    summaryKind: 'wandb-summary',
    onEvent: async (event) => {
      if (event.kind === 'wandb-run') started(String(event.folder));
    },
  });
  process.stdin.write(line('WandbLog', { settings: options.settings, config: options.config, dir: options.dir }));
  process.done.catch(() => undefined); // a run ended with end() is not waited for; finish() returns the failure
  const first = await Promise.race([folder, process.done]);
  if (typeof first !== 'string') throw new Error('bug: wandb-log ended without starting its run');
  return {
    folder: first,
    log: (step, values) => void process.stdin.write(line('WandbRow', { step, values })),
    finish: async () => {
      process.stdin.end();
      return process.done;
    },
    end: () => void process.stdin.end(),
  };
}
