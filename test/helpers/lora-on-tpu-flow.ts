// Test helper: the workflow the TPU training tests run — finetune/nt-lora on the tiny NT over the FASTA
// sample, 6 steps with a checkpoint every 2, fp32 on mesh 4x2x1, on a TPU slice or this machine's 8 XLA CPU
// devices (`on:` pod or host) — and a project holding it with its data and model.
import { copyFromRepo, writeProject } from './project.js';

export const LORA_ADAPTERS = 'out/lora-adapters/adapter_model.safetensors';

export interface LoraOnTpuFlow {
  name: string;
  /** The TPU device's declaration (`pod`). */
  pod: string;
  evalEvery: number;
  /** More of the lora step's `with:` (indented as its keys), and more steps after it (placed `on`). */
  loraWith?: string;
  steps?: (on: 'pod' | 'host') => string;
}

export function loraOnTpuFlow(flow: LoraOnTpuFlow, on: 'pod' | 'host'): string {
  return `version: 1
name: ${flow.name}
devices:
  host: { kind: cpu, runtime: jax, devices: 8 }
  pod: ${flow.pod}
steps:
  source:
    uses: source/fasta
    with: { path: workflows/data/sample.fasta.gz, lineage: unite, invalid: to-n, duplicates: skip }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2, max_tokens: 128 } }
  lora:
    uses: finetune/nt-lora
    needs: [tokens, source]
    on: ${on}
    mesh: { data: 4, fsdp: 2, tp: 1 }
    precision: fp32
    with:
      model: models/tiny-nt
      steps: 6
      batch_size: 16
      learning_rate: 0.002
      warmup_steps: 5
      eval_every: ${flow.evalEvery}
      checkpoint_every_steps: 2
      adapters_path: out/lora-adapters
${flow.loraWith ?? ''}${flow.steps?.(on) ?? ''}`;
}

export function loraOnTpuProject(flow: LoraOnTpuFlow, on: 'pod' | 'host'): string {
  const root = writeProject({ 'flow.yaml': loraOnTpuFlow(flow, on) });
  copyFromRepo(root, 'workflows/data/sample.fasta.gz', 'models/tiny-nt');
  return root;
}
