// bench/lora: finetune/nt-lora on the ITS sample (workflows/data/sample.fasta.gz, 300 barcodes) with the
// repository's tiny NT (seeded random weights: this measures the mechanism — that the adapters and head learn
// and the pipeline holds together — not biology). For a random split and one holding out whole genera: the
// training loss at the start and the end; genus accuracy of LoRA + head against taxonomy-head on the frozen
// base model's vectors and against the 1-NN baseline on 5-mer profiles, on the same split. Then the
// trainable fraction of LoRA r=16 on NT-2.5B shapes and train steps/s on 1, 2, 4, 8 XLA CPU devices
// (runtime/jax/bench/lora.py), and the NT-2.5B train step's per-device memory as XLA:CPU compiles it from
// shapes (not a TPU's: that is the compile pre-flight's, with libtpu). With a real NT folder: STRAND_LORA_MODEL=PATH npm run bench lora.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../engine/events/run-event.js';
import { findPython, pythonEnv } from '../engine/jax/jax-process.js';
import { jaxRuntimeDir } from '../engine/jax/jax-runtime-dir.js';
import { journalPath, listRuns, readJournal } from '../engine/run/journal.js';
import type { BenchResult } from './bench-result.js';
import { copyIn, runStrand, tempProject } from './bench-tools.js';

const STEPS = Number(process.env.STRAND_LORA_STEPS ?? 150);
const MODEL = process.env.STRAND_LORA_MODEL ?? 'models/tiny-nt';

const FROZEN = (groupBy: string) => `version: 1
name: frozen
devices:
  host: { kind: cpu, runtime: jax, devices: 8 }
steps:
  source: { uses: source/fasta, with: { path: workflows/data/sample.fasta.gz, lineage: unite, invalid: to-n, duplicates: skip } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2, max_tokens: 256 } }
  embed: { uses: embed/nt, needs: [tokens], on: host, with: { model: ${MODEL} } }
  nt_head: { uses: finetune/taxonomy-head, needs: [embed, source], with: { group_by: ${groupBy}, epochs: 30, baseline: false, metrics_path: out/nt.json } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 5, normalize: l2 } }
  kmer_head: { uses: finetune/taxonomy-head, needs: [profile, source], with: { group_by: ${groupBy}, epochs: 30, metrics_path: out/kmer.json } }
`;

function summaryOf(root: string, step: string): Record<string, number> {
  const runs = join(root, '.strand/runs');
  const events: RunEvent[] = listRuns(runs).flatMap((id) => readJournal(journalPath(runs, id)));
  const finished = events.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === step);
  return (finished?.summary ?? {}) as Record<string, number>;
}

function genusAccuracy(path: string, model: string): number {
  const metrics = JSON.parse(readFileSync(path, 'utf8')) as {
    metrics: { model: string; level: string; epoch: number; accuracy: number }[];
  };
  const rows = metrics.metrics.filter((m) => m.model === model && m.level === 'genus');
  return rows.at(-1)?.accuracy ?? NaN;
}

function python(args: string[]): Record<string, unknown> {
  const found = findPython(process.env);
  if ('error' in found) throw new Error(found.error);
  const r = spawnSync(found.python, [join(jaxRuntimeDir(), 'bench/lora.py'), ...args], { env: pythonEnv(process.env), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

export async function loraBench(): Promise<BenchResult> {
  const result: BenchResult = { name: 'lora', figures: [], ratios: [], notes: [] };
  for (const groupBy of ['none', 'genus']) {
    const { root, remove } = tempProject();
    try {
      copyIn(root, 'workflows/lora.yaml', 'workflows/data/sample.fasta.gz', 'models/tiny-nt');
      const lora = runStrand(
        [
          'run',
          'workflows/lora.yaml',
          '--param',
          `steps=${STEPS}`,
          '--param',
          `group_by=${groupBy}`,
          '--param',
          `model=${MODEL}`,
          '--param',
          `checkpoint_every=${STEPS}`,
        ],
        root,
      );
      if (lora.status !== 0) throw new Error(lora.stderr);
      const s = summaryOf(root, 'lora');
      writeFileSync(join(root, 'frozen.yaml'), FROZEN(groupBy));
      const frozen = runStrand(['run', 'frozen.yaml'], root);
      if (frozen.status !== 0) throw new Error(frozen.stderr);
      const split = groupBy === 'none' ? 'random split' : 'genera held out';
      result.figures.push(
        { label: `${split}: training loss, first 5 steps`, value: s.loss_first!, unit: '' },
        { label: `${split}: training loss, last 5 steps (of ${STEPS})`, value: s.loss_last!, unit: '' },
        { label: `${split}: genus accuracy, LoRA + head`, value: s.val_genus_accuracy ?? NaN, unit: '' },
        { label: `${split}: genus accuracy, head on frozen NT vectors`, value: genusAccuracy(join(root, 'out/nt.json'), 'head'), unit: '' },
        { label: `${split}: genus accuracy, 1-NN on 5-mer profiles`, value: genusAccuracy(join(root, 'out/kmer.json'), '1-nn'), unit: '' },
        { label: `${split}: LoRA step wall time`, value: lora.ms / 1000, unit: 's (whole run)' },
      );
      result.ratios.push({
        label: `${split}: last / first training loss`,
        value: s.loss_last! / s.loss_first!,
        target: '< 1',
        better: 'lower',
      });
    } finally {
      remove();
    }
  }
  const fraction = python(['fraction']) as {
    base_parameters: number;
    qv: { adapters: number; fraction_of_base: number };
    qkvo: { adapters: number; fraction_of_base: number };
  };
  result.figures.push(
    { label: 'NT-2.5B r=16 query/value: adapter parameters', value: fraction.qv.adapters, unit: `of ${fraction.base_parameters}` },
    { label: 'NT-2.5B r=16 query/value: trainable fraction', value: 100 * fraction.qv.fraction_of_base, unit: '%' },
    { label: 'NT-2.5B r=16 query/key/value/output: trainable fraction', value: 100 * fraction.qkvo.fraction_of_base, unit: '%' },
  );
  const memory = python(['memory']) as { meshes: { mesh: string; per_device_gib: number }[] };
  for (const m of memory.meshes)
    result.figures.push({
      label: `NT-2.5B train step (r=16 q/v, bf16, remat, 4 x 256 tokens/device), XLA:CPU memory per device, mesh ${m.mesh}`,
      value: m.per_device_gib,
      unit: 'GiB',
    });
  let one: number | undefined;
  for (const devices of [1, 2, 4, 8]) {
    const r = python(['steps', String(devices)]) as { steps_per_second: number };
    one ??= r.steps_per_second;
    result.figures.push({
      label: `tiny NT train steps/s, ${devices} CPU device(s), global batch 16 x 128 tokens`,
      value: r.steps_per_second,
      unit: 'steps/s',
    });
    result.ratios.push({ label: `steps/s on ${devices} devices / 1 device`, value: r.steps_per_second / one, better: 'higher' });
  }
  result.notes.push(
    `tiny NT has seeded random weights: accuracies measure the mechanism, not biology; ${STEPS} LoRA steps on the 300-barcode sample`,
  );
  return result;
}
