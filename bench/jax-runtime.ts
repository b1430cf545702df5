// bench/jax-runtime: embed/nt on the JAX runtime against onnxruntime on the same CPU, same weights and
// same sequences (the 1,000 quickstart ITS barcodes; the small-nt shape: hidden 256, 4 layers, 8 heads,
// in both forms from scripts/build-tiny-nt.ts); JAX's scaling over 1, 2, 4 and 8 XLA host devices
// (mesh data N, global batch 32); compile time per length bucket and the compile count for the quickstart
// (tiny-nt, mesh 2x2x2 on 8 host devices); and XLA's FLOP count per sequence (runtime/jax/bench/flops.py)
// against 2 x parameters x tokens. Every run has its own state directory: the key ignores the mesh.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../engine/events/run-event.js';
import { findPython, pythonEnv } from '../engine/jax/jax-process.js';
import { jaxRuntimeDir } from '../engine/jax/jax-runtime-dir.js';
import { buildTinyNt, buildTinyNtFolder, TINY_NT } from '../scripts/build-tiny-nt.js';
import type { BenchResult } from './bench-result.js';
import { copyIn, REPO, runStrand, tempProject } from './bench-tools.js';

const SMALL_NT = { ...TINY_NT, hidden: 256, heads: 8, layers: 4, ffn: 1024 };

const FLOW = (model: string, placement: string) => `version: 1
name: jaxbench
devices:
  laptop: { kind: cpu }
  host1: { kind: cpu, runtime: jax, devices: 1 }
  host2: { kind: cpu, runtime: jax, devices: 2 }
  host4: { kind: cpu, runtime: jax, devices: 4 }
  host8: { kind: cpu, runtime: jax, devices: 8 }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 250 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  embed: { uses: embed/nt, needs: [tokens], with: { model: ${model} }, ${placement} }
`;

interface Measured {
  seconds: number;
  summary: Record<string, number | string | boolean>;
}

function writeFolder(dir: string, shape: typeof TINY_NT): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(buildTinyNtFolder(shape))) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, 'model.onnx'), buildTinyNt(shape));
}

export async function jaxRuntime(): Promise<BenchResult> {
  const result: BenchResult = { name: 'jax-runtime', figures: [], ratios: [], notes: [] };
  const { root, remove } = tempProject();
  try {
    copyIn(root, 'workflows/data/sample.parquet');
    writeFolder(join(root, 'small-nt'), SMALL_NT);
    let run = 0;
    const measure = (model: string, placement: string): Measured => {
      writeFileSync(join(root, 'flow.yaml'), FLOW(model, placement));
      const done = runStrand(['run', 'flow.yaml', '--json', '--state-dir', `.state-${run++}`], root);
      if (done.status !== 0) throw new Error(`jax-runtime run failed (${placement}): ${done.stdout}${done.stderr}`);
      const finished = done.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as RunEvent)
        .find((e) => e.kind === 'step-finished' && e.step === 'embed') as Extract<RunEvent, { kind: 'step-finished' }>;
      return { seconds: finished.durationMs / 1000, summary: finished.summary };
    };
    const sequences = 1000;
    const onnx = measure('small-nt', 'on: laptop, mesh: { data: 1 }'); // one session over all cores, as measured before
    const jax1 = measure('small-nt', 'on: host1, batch: { global: 32 }');
    const steady = (m: Measured): number => sequences / (m.seconds - Number(m.summary.compile_seconds ?? 0));
    result.figures.push(
      { label: 'onnxruntime, small-nt, 1,000 ITS (step)', value: sequences / onnx.seconds, unit: 'seq/s' },
      { label: 'JAX 1 device, small-nt (step, incl. start-up and compilation)', value: sequences / jax1.seconds, unit: 'seq/s' },
      { label: 'JAX 1 device, small-nt (excluding compilation)', value: steady(jax1), unit: 'seq/s' },
    );
    result.ratios.push(
      { label: 'JAX (1 device, step) / onnxruntime', value: onnx.seconds / jax1.seconds, better: 'higher' },
      { label: 'JAX (1 device, excluding compilation) / onnxruntime', value: steady(jax1) / (sequences / onnx.seconds), better: 'higher' },
    );
    const scaling: Record<number, Measured> = { 1: jax1 };
    for (const n of [2, 4, 8]) scaling[n] = measure('small-nt', `on: host${n}, mesh: { data: ${n} }, batch: { global: 32 }`);
    for (const n of [1, 2, 4, 8])
      result.figures.push({
        label: `JAX ${n} host device${n === 1 ? '' : 's'} (mesh data ${n}), excluding compilation`,
        value: steady(scaling[n]!),
        unit: 'seq/s',
      });
    for (const n of [2, 4, 8])
      result.ratios.push({
        label: `JAX ${n} devices / 1 device (excluding compilation)`,
        value: steady(scaling[n]!) / steady(jax1),
        better: 'higher',
      });

    copyIn(root, 'models/tiny-nt', 'models/tiny-nt.onnx');
    const quick = measure('models/tiny-nt', 'on: host8, mesh: { data: 2, fsdp: 2, tp: 2 }');
    result.figures.push({
      label: 'quickstart (tiny-nt, 2x2x2 on 8 host devices): compilations',
      value: Number(quick.summary.compilations),
      unit: `programs (buckets ${quick.summary.buckets})`,
    });
    result.figures.push({ label: 'quickstart: compile time, all buckets', value: Number(quick.summary.compile_seconds), unit: 's' });
    for (const entry of String(quick.summary.compile_seconds_by_bucket).split(',')) {
      const [bucket, seconds] = entry.split(':');
      result.figures.push({ label: `quickstart: compile time, bucket ${bucket}`, value: Number(seconds), unit: 's' });
    }
    result.notes.push(`quickstart step ${quick.seconds.toFixed(1)} s, of which compilation ${quick.summary.compile_seconds} s`);

    const python = findPython(process.env);
    if ('error' in python) throw new Error(python.error);
    for (const [name, folder] of [
      ['tiny-nt', join(REPO, 'models/tiny-nt')],
      ['small-nt', join(root, 'small-nt')],
    ] as const) {
      const flops = spawnSync(python.python, [join(jaxRuntimeDir(), 'bench', 'flops.py'), folder, '128', '1000'], {
        encoding: 'utf8',
        env: pythonEnv(process.env, 'cpu'),
      });
      if (flops.status !== 0) throw new Error(`flops.py failed: ${flops.stderr}`);
      const out = JSON.parse(flops.stdout.trim().split('\n').at(-1)!) as {
        parameters: number;
        embedding_parameters: number;
        per_length: { tokens: number; xla_rolled: number; xla: number; two_p_t: number; two_p_t_without_embedding: number }[];
      };
      for (const l of out.per_length) {
        result.figures.push({
          label: `${name} (${out.parameters} parameters) XLA FLOPs per sequence of ${l.tokens} tokens (scan unrolled)`,
          value: l.xla / 1e6,
          unit: 'MFLOP',
        });
        result.ratios.push({ label: `${name}, ${l.tokens} tokens: XLA / (2 x parameters x tokens)`, value: l.xla / l.two_p_t });
        result.ratios.push({
          label: `${name}, ${l.tokens} tokens: XLA / (2 x non-embedding parameters x tokens)`,
          value: l.xla / l.two_p_t_without_embedding,
        });
        result.ratios.push({
          label: `${name}, ${l.tokens} tokens: XLA rolled scan / unrolled (body counted once)`,
          value: l.xla_rolled / l.xla,
        });
      }
    }
    result.notes.push(
      'this machine has 2 cores shared with other sessions: more XLA host devices split the same 2 cores, so scaling past 2 measures partitioning overhead, not speed-up',
    );
    result.notes.push(
      'MFU: no accelerator here, so none is reported. On a TPU VM (or GPU machine) with `strand doctor` showing jax-tpu (jax-gpu) ready: `bench/accelerator` (strand run of embed/nt on the device), then MFU = sequences/s (from its summary, excluding compile_seconds) x the XLA FLOPs per sequence above / (devices x the peak bf16 FLOP/s per device in engine/devices/device-catalog.json)',
    );
  } finally {
    remove();
  }
  return result;
}
