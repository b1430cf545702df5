// bench/whole-run (issue 27, whole-run overhead): `strand run workflows/quickstart.yaml` over 8,878 ITS
// sequences (the 4,439 barcodes of data/mycoai-yeast-its twice, ids made unique) as a whole process with a
// cold store, against the bare onnxruntime loop over the same sequences (bench/bare-onnx-loop.ts: the same
// tokenization, shards and length-bucketed batches as embed/onnx, session.run and pooling, nothing written;
// one session over all cores), also a whole process, so both pay a node start and the model's load. Where
// embed/onnx picks more than one session for the case (onnx-cpu-layout.ts: a small model), a second bare loop
// runs that layout: strand against it is the engine's own overhead, the same work on both sides. Then the
// same on a
// 36M-parameter model of the same family (hidden 512, 8 layers, ffn 2048), over the first 500 sequences.
// Rounds are interleaved (the order turns each round), so a busy moment of this shared machine falls on
// every contender alike; each figure is the best of its rounds. STRAND_BENCH_BEFORE=DIR, a built checkout
// of an earlier commit, adds its `strand run` to every round (before and after in one run).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnxCpuLayout } from '../steps/embed/onnx-cpu-layout.js';
import { readFastaRecords } from '../steps/source/fasta-records.js';
import { buildTinyNt, TINY_NT, tinyNtWeights, type TinyNtShape } from '../scripts/build-tiny-nt.js';
import { sampleParquet } from '../scripts/build-sample-data.js';
import type { BenchResult } from './bench-result.js';
import { copyIn, REPO, runStrand, tempProject } from './bench-tools.js';

const FASTA = join(REPO, 'data/mycoai-yeast-its/yeast_its_test1.fasta');
const BARE = join(REPO, 'dist/bench/bare-onnx-loop.js');
// workflows/quickstart.yaml's source shard_rows, and embed/onnx's default batch_size.
const SHARD_ROWS = 250;
const BATCH_SIZE = 32;
const LARGE: TinyNtShape = { ...TINY_NT, hidden: 512, heads: 8, layers: 8, ffn: 2048 };

interface Case {
  label: string;
  input: string;
  model: string;
  sequences: number;
  rounds: number;
}

type Contender = 'strand run' | 'strand run, before' | 'bare loop' | "bare loop, strand's sessions";

function timeContender(contender: Contender, c: Case, root: string, before: string | undefined): { ms: number; rssMiB?: number } {
  if (contender === 'bare loop' || contender === "bare loop, strand's sessions") {
    const sessions = contender === 'bare loop' ? 1 : strandSessions(c, root);
    const start = performance.now();
    const run = spawnSync(process.execPath, [BARE, c.input, c.model, String(SHARD_ROWS), String(BATCH_SIZE), String(sessions)], {
      cwd: root,
      encoding: 'utf8',
    });
    const ms = performance.now() - start;
    if (run.status !== 0 || !run.stdout.startsWith(`${c.sequences} vectors`))
      throw new Error(`${contender} failed (${run.status}): ${run.stdout}${run.stderr}`);
    return { ms };
  }
  // A cold store and no table: every step runs.
  rmSync(join(root, '.strand'), { recursive: true, force: true });
  rmSync(join(root, 'out'), { recursive: true, force: true });
  const args = ['run', 'workflows/quickstart.yaml', '--param', `input=${c.input}`, '--param', `model=${c.model}`, '--plain'];
  const run = runStrand(args, root, contender === 'strand run' ? REPO : before);
  if (run.status !== 0 || !run.stdout.includes(`rows=${c.sequences}`)) throw new Error(`${contender} failed: ${run.stdout}${run.stderr}`);
  return { ms: run.ms, rssMiB: run.maxRssMiB };
}

/** The sessions embed/onnx picks for the case on this machine (no mesh declared, all cores). */
function strandSessions(c: Case, root: string): number {
  const cores = availableParallelism();
  const shards = Math.ceil(c.sequences / SHARD_ROWS);
  const modelBytes = statSync(join(root, c.model)).size;
  return onnxCpuLayout({ declaredSessions: undefined, threads: cores, cores, shards, modelBytes }).sessions;
}

export async function wholeRun(): Promise<BenchResult> {
  const result: BenchResult = { name: 'whole-run', figures: [], ratios: [], notes: [] };
  const before = process.env.STRAND_BENCH_BEFORE;
  const { root, remove } = tempProject();
  try {
    copyIn(root, 'workflows/quickstart.yaml', 'models/tiny-nt.onnx');
    const its: { header: string; sequence: string }[] = [];
    for await (const record of readFastaRecords(FASTA)) its.push(record);
    const twice = [...its, ...its];
    writeFileSync(
      join(root, 'its-x2.parquet'),
      sampleParquet(twice, (i) => `#${Math.floor(i / its.length)}`),
    );
    writeFileSync(join(root, 'its-500.parquet'), sampleParquet(its.slice(0, 500)));
    mkdirSync(join(root, 'models'), { recursive: true });
    writeFileSync(join(root, 'models/nt-large.onnx'), buildTinyNt(LARGE));
    const largeParams = tinyNtWeights(LARGE).reduce((n, t) => n + t.data.length, 0);
    const cases: Case[] = [
      {
        label: `tiny-nt, ${twice.length.toLocaleString('en')} ITS`,
        input: 'its-x2.parquet',
        model: 'models/tiny-nt.onnx',
        sequences: twice.length,
        rounds: 7,
      },
      {
        label: `${(largeParams / 1e6).toFixed(0)}M-parameter NT (hidden 512, 8 layers), 500 ITS`,
        input: 'its-500.parquet',
        model: 'models/nt-large.onnx',
        sequences: 500,
        rounds: 3,
      },
    ];
    for (const c of cases) {
      const bareLoops: Contender[] = strandSessions(c, root) > 1 ? ['bare loop', "bare loop, strand's sessions"] : ['bare loop'];
      const contenders: Contender[] = [
        ...(before === undefined ? ['strand run' as const] : ['strand run' as const, 'strand run, before' as const]),
        ...bareLoops,
      ];
      const best = new Map<Contender, { ms: number; rssMiB?: number }>();
      for (let round = 0; round < c.rounds; round++) {
        for (let k = 0; k < contenders.length; k++) {
          const contender = contenders[(round + k) % contenders.length]!;
          const timed = timeContender(contender, c, root, before);
          process.stderr.write(`  ${c.label}, round ${round + 1}: ${contender} ${(timed.ms / 1000).toFixed(2)} s\n`);
          if (timed.ms < (best.get(contender)?.ms ?? Infinity)) best.set(contender, timed);
        }
      }
      for (const contender of contenders) {
        const { ms, rssMiB } = best.get(contender)!;
        result.figures.push({ label: `${c.label}: ${contender} (whole process, best of ${c.rounds})`, value: ms / 1000, unit: 's' });
        if (rssMiB !== undefined) result.figures.push({ label: `${c.label}: ${contender}, peak RSS`, value: rssMiB, unit: 'MiB' });
        if (bareLoops.includes(contender)) continue;
        for (const bareLoop of bareLoops)
          result.ratios.push({
            label: `${c.label}: ${contender} against the ${bareLoop} (bare time / strand time)`,
            value: best.get(bareLoop)!.ms / ms,
            ...(contender === 'strand run' && bareLoop === 'bare loop'
              ? { target: c.model === 'models/tiny-nt.onnx' ? '>= 0.95' : 'no worse than before' }
              : {}),
            better: 'higher',
          });
      }
    }
    result.notes.push(
      `whole processes, cold store; interleaved rounds, best of each; the bare loop is bench/bare-onnx-loop.ts (Parquet read, hygiene, NT tokenizer, shards of ${SHARD_ROWS}, batches of ${BATCH_SIZE} by length, session.run, mean pooling; nothing written), with one session over all cores, and (a small model) with the sessions strand picks`,
    );
  } finally {
    remove();
  }
  return result;
}
