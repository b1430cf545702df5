// `bash bench/accelerator.sh` (on a machine with an NVIDIA GPU): embed/nt through `strand run`, from workflow
// files, on NT-2.5B shapes (v1, seeded random weights from config.json: no download) at several per-device
// batches and lengths, printing sequences/s, tokens/s, MFU and peak device memory against the plan's figure.
// Each (length, batch) is its own project, so none is a cache hit of another (the batch is not in the key).
//   node dist/bench/accelerator.js [--model nt-2.5b|tiny] [--device gpu|cpu] [--batches 8,32,128]
//                                  [--lengths 128,512,1000] [--sequences 2048]
// `--model tiny --device cpu` runs the same road on this machine's CPU (a smoke run: no MFU, no peak memory).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunEvent } from '../engine/events/run-event.js';
import { findPython, pythonEnv } from '../engine/jax/jax-process.js';
import { jaxRuntimeDir } from '../engine/jax/jax-runtime-dir.js';
import { REPO, tempProject } from './bench-tools.js';
import { NT_2_5B } from './nt-configs.js';

const CLI = join(REPO, 'dist/engine/cli/main.js');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'nt-2.5b' },
    device: { type: 'string', default: 'gpu' },
    batches: { type: 'string', default: '8,32,128' },
    lengths: { type: 'string', default: '128,512,1000' },
    sequences: { type: 'string', default: '2048' },
  },
});
const numbers = (text: string): number[] => text.split(',').map(Number);

/** The device a workflow places embed/nt on: the machine's GPU, or (smoke run) one XLA device of its CPU. */
const DEVICE = values.device === 'gpu' ? '{ kind: gpu, type: h100 }' : '{ kind: cpu, runtime: jax, devices: 1 }';

function randomModel(root: string): string {
  if (values.model === 'tiny') return join(REPO, 'models/tiny-nt');
  const python = findPython(process.env);
  if ('error' in python) throw new Error(python.error);
  writeFileSync(join(root, 'config.json'), JSON.stringify(NT_2_5B));
  const made = spawnSync(
    python.python,
    [join(jaxRuntimeDir(), 'bench/random_model.py'), join(root, 'config.json'), join(root, 'nt-2.5b')],
    {
      encoding: 'utf8',
      env: pythonEnv(process.env, 'cpu'),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (made.status !== 0) throw new Error('random_model.py failed');
  return join(root, 'nt-2.5b');
}

/** `count` random sequences whose NT v1 tokenization (6-mers after CLS) is `tokens` long. */
function fasta(count: number, tokens: number): string {
  let seed = 1;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const records: string[] = [];
  for (let i = 0; i < count; i++) {
    let bases = '';
    for (let b = 0; b < (tokens - 1) * 6; b++) bases += 'ACGT'.charAt(next() % 4);
    records.push(`>s${i}\n${bases}`);
  }
  return `${records.join('\n')}\n`;
}

const FLOW = (model: string, batch: number) => `version: 1
name: accelerator
devices:
  dev: ${DEVICE}
steps:
  source: { uses: source/fasta, with: { path: seqs.fasta } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: ${values.model === 'tiny' ? 2 : 1} } }
  embed: { uses: embed/nt, needs: [tokens], with: { model: ${model} }, on: dev, batch: { per_device: ${batch} }, precision: bf16 }
`;

function cli(args: string[], cwd: string): string {
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`strand ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

interface Row {
  tokens: number;
  perDeviceBatch: number;
  sequencesPerSecond: number;
  tokensPerSecond: number;
  mfu: number | null;
  peakGiB: number | null;
  planGiB: number | null;
  compileSeconds: number;
}

const work = tempProject();
const rows: Row[] = [];
try {
  const model = randomModel(work.root);
  for (const tokens of numbers(values.lengths)) {
    for (const batch of numbers(values.batches)) {
      const root = join(work.root, `L${tokens}-B${batch}`);
      mkdirSync(root);
      writeFileSync(join(root, 'seqs.fasta'), fasta(Number(values.sequences), tokens));
      writeFileSync(join(root, 'flow.yaml'), FLOW(model, batch));
      const plan = JSON.parse(cli(['plan', 'flow.yaml', '--json'], root)) as {
        steps: {
          step: string;
          placement: { run: { mesh: { data: number; fsdp: number } }; estimate?: { flopsPerSequence: number; memory: { total?: number } } };
        }[];
      };
      const placed = plan.steps.find((s) => s.step === 'embed')!.placement;
      const events = cli(['run', 'flow.yaml', '--json'], root)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as RunEvent);
      const done = events.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === 'embed')!;
      const summary = done.summary;
      const devices = Number(summary.devices);
      const seconds = done.durationMs / 1000 - Number(summary.compile_seconds);
      const sequencesPerSecond = Number(summary.sequences) / seconds;
      const peak = typeof summary.peak_bytes_per_device === 'number' ? summary.peak_bytes_per_device : null;
      const peakFlops = Number(process.env.PEAK_FLOPS_PER_DEVICE ?? 0); // bf16 FLOP/s of one device (H100 SXM: 989e12)
      rows.push({
        tokens,
        perDeviceBatch: batch,
        sequencesPerSecond,
        tokensPerSecond: Number(summary.tokens) / seconds,
        mfu:
          placed.estimate !== undefined && peakFlops > 0
            ? (sequencesPerSecond * placed.estimate.flopsPerSequence) / (devices * peakFlops)
            : null,
        peakGiB: peak === null ? null : peak / 2 ** 30,
        planGiB: placed.estimate?.memory.total === undefined ? null : placed.estimate.memory.total / 2 ** 30,
        compileSeconds: Number(summary.compile_seconds),
      });
      console.log(JSON.stringify(rows.at(-1)));
    }
  }
} finally {
  work.remove();
}
const out = join(REPO, 'bench/results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'accelerator.json'), `${JSON.stringify({ model: values.model, device: values.device, rows }, null, 2)}\n`);
console.log('| tokens | batch/dev | seq/s | tokens/s | MFU | peak GiB/dev | plan GiB/dev | compile s |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
const show = (v: number | null, digits = 2): string => (v === null ? '-' : v.toFixed(digits));
for (const r of rows)
  console.log(
    `| ${r.tokens} | ${r.perDeviceBatch} | ${show(r.sequencesPerSecond)} | ${show(r.tokensPerSecond, 0)} | ${show(r.mfu, 3)} | ${show(r.peakGiB)} | ${show(r.planGiB)} | ${show(r.compileSeconds, 1)} |`,
  );
