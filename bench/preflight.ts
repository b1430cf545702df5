// bench/preflight: the pre-flight at the scale it exists for, and the placement formula against XLA.
// 1. End to end through the built CLI (issue 24's case): NT-2.5B shapes (v1: 32 layers x 2,560, 20 heads,
//    FFN 10,240; a folder of config.json and a safetensors header, no weights) under embed/nt on a
//    v5litepod-1, bf16, 1,000 tokens: `strand plan` at per-device 512 (seconds to refuse it with XLA's words
//    and the fix it compiled) and at `batch: auto` (seconds, the batch chosen), each with an empty pre-flight
//    cache, the compiler started with this shell's stack limit.
// 2. The formula over the committed grid of XLA's answers (bench/xla-memory-grid.json; regenerate with
//    runtime/jax/bench/xla_memory_grid.py): formula / XLA memory (min, median, max) where XLA kept the
//    attention scores whole, the rows where it rematerialised, and compile seconds per bucket by model.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from './bench-result.js';
import { copyIn, median, runStrand, tempProject } from './bench-tools.js';
import { NT_2_5B } from './nt-configs.js';
import { compareWithXla, gridRowLabel, gridRows } from './xla-memory-grid.js';

/** NT v1's parameter count from its config (learned positions, biased GELU feed-forward). */
function parameters(c: typeof NT_2_5B): number {
  const h = c.hidden_size;
  const f = c.intermediate_size;
  const layer = 4 * h * h + 4 * h + 2 * h * f + f + h + 4 * h;
  return c.vocab_size * h + c.max_position_embeddings * h + c.num_hidden_layers * layer + 2 * h;
}

/** A model folder of shapes only: config.json and a safetensors header whose tensor has the parameter count. */
function writeShapesOnlyNt(folder: string): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify(NT_2_5B));
  const header = JSON.stringify({ 'shapes.only': { dtype: 'F32', shape: [parameters(NT_2_5B)], data_offsets: [0, 0] } });
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(folder, 'model.safetensors'), Buffer.concat([length, Buffer.from(header)]));
}

const flow = (batch: string) => `version: 1
name: preflight-nt-2_5b
devices:
  chip: { kind: tpu, type: v5litepod-1, project: p, zone: us-west4-a }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 1 } }
  embed:
    uses: embed/nt
    needs: [tokens]
    with: { model: models/nt-2.5b }
    on: chip
    precision: bf16
    tokens: 1000
    batch: ${batch}
`;

function planNt(batch: string): { seconds: number; text: string } {
  const project = tempProject();
  try {
    copyIn(project.root, 'workflows/data/sample.parquet');
    writeShapesOnlyNt(join(project.root, 'models/nt-2.5b'));
    writeFileSync(join(project.root, 'flow.yaml'), flow(batch));
    const run = runStrand(['plan', 'flow.yaml', '--plain'], project.root);
    return { seconds: run.ms / 1000, text: run.stdout + run.stderr };
  } finally {
    project.remove();
  }
}

export async function preflightBench(): Promise<BenchResult> {
  const figures: BenchResult['figures'] = [];
  const ratios: BenchResult['ratios'] = [];
  const notes: string[] = [];

  const refused = planNt('{ per_device: 512 }');
  figures.push({ label: 'NT-2.5B v5litepod-1 per-device 512: seconds to refuse with XLA’s figures', value: refused.seconds, unit: 's' });
  const error = refused.text.split('\n').find((l) => l.includes('preflight-does-not-fit') || l.includes('error:'));
  const hint = refused.text.split('\n').find((l) => l.trim().startsWith('hint:'));
  notes.push(`NT-2.5B per-device 512: ${error?.trim() ?? 'no error printed'} ${hint?.trim() ?? ''}`);
  const auto = planNt('auto');
  figures.push({ label: 'NT-2.5B v5litepod-1 batch: auto: seconds to plan', value: auto.seconds, unit: 's' });
  const chose = /batch: auto chose (\d+)\/dev[^\]\n]*/.exec(auto.text);
  notes.push(`NT-2.5B batch: auto: ${chose?.[0] ?? `no batch chosen: ${auto.text.slice(-400)}`}`);

  const rows = gridRows();
  const compared = rows.map((row) => ({ row, ...compareWithXla(row) }));
  const whole = compared.filter((c) => c.wholeScores).map((c) => c.formula / c.xla);
  const sorted = [...whole].sort((a, b) => a - b);
  ratios.push({ label: `formula / XLA memory over ${whole.length} grid rows: min`, value: Number(sorted[0]!.toFixed(3)) });
  ratios.push({ label: 'formula / XLA memory: median', value: Number(median(whole).toFixed(3)) });
  ratios.push({ label: 'formula / XLA memory: max', value: Number(sorted.at(-1)!.toFixed(3)) });
  for (const c of compared.filter((x) => !x.wholeScores && x.formula / x.xla > 1.25))
    notes.push(
      `${gridRowLabel(c.row)}: XLA kept no whole float32 scores (${(c.xla / 2 ** 30).toFixed(2)} GiB); the formula says ${(c.formula / 2 ** 30).toFixed(2)} GiB`,
    );
  for (const model of [...new Set(rows.map((r) => r.model))]) {
    const seconds = rows.filter((r) => r.model === model).map((r) => r.answer.compile_seconds);
    figures.push({ label: `${model}: compile seconds per bucket (median of ${seconds.length})`, value: median(seconds), unit: 's' });
  }
  return { name: 'preflight', figures, ratios, notes };
}
