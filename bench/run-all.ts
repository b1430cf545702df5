// `npm run bench [-- NAME...] [-- --update-baseline]`: runs the benchmarks (all, or those named), prints a
// Markdown table with each figure beside its last committed value (bench/baseline.json), writes
// bench/results/latest.{md,json}, and exits 1, naming them, when any ratio got more than 10% worse.
// --update-baseline writes this run's results into bench/baseline.json (commit it with the change).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from './bench-result.js';
import { REPO } from './bench-tools.js';
import { compareWithBaseline, TOLERANCE, withResults, type Baseline, type ComparedRow } from './compare-baseline.js';
import { clusterBench, noveltyBench } from './cluster.js';
import { dataParallel } from './data-parallel.js';
import { gcsStream } from './gcs-stream.js';
import { jaxRuntime } from './jax-runtime.js';
import { lancedbWhere } from './lancedb-where.js';
import { loraBench } from './lora.js';
import { preflightBench } from './preflight.js';
import { pipeline } from './pipeline.js';
import { planScale } from './plan-scale.js';
import { startUp } from './start-up.js';
import { taxonomyEval } from './taxonomy-eval.js';
import { tpuReplicas } from './tpu-replicas.js';
import { tpuResume } from './tpu-resume.js';
import { wholeRun } from './whole-run.js';
import { yamlParse } from './yaml-parse.js';

const benches: Record<string, () => Promise<BenchResult>> = {
  'start-up': startUp,
  'plan-scale': planScale,
  pipeline,
  'data-parallel': dataParallel,
  'gcs-stream': gcsStream,
  taxonomy: taxonomyEval,
  'yaml-parse': yamlParse,
  'jax-runtime': jaxRuntime,
  lora: loraBench,
  preflight: preflightBench,
  'lancedb-where': lancedbWhere,
  cluster: clusterBench,
  novelty: noveltyBench,
  'tpu-replicas': tpuReplicas,
  'tpu-resume': tpuResume,
  'whole-run': wholeRun,
};

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3);
}

function changeText(row: ComparedRow): string {
  if (row.baseline === undefined) return 'new';
  const change = row.change === undefined ? '' : `${row.change >= 0 ? '+' : ''}${(row.change * 100).toFixed(1)}%`;
  return row.regression ? `**WORSE ${change}**` : change;
}

const args = process.argv.slice(2);
const update = args.includes('--update-baseline');
const chosen = args.filter((a) => !a.startsWith('--'));
const unknown = chosen.filter((name) => !(name in benches));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; benches: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
const results: BenchResult[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (chosen.length > 0 && !chosen.includes(name)) continue;
  process.stderr.write(`running ${name}...\n`);
  results.push(await bench());
}

const baselinePath = join(REPO, 'bench', 'baseline.json');
const baseline: Baseline = existsSync(baselinePath) ? (JSON.parse(readFileSync(baselinePath, 'utf8')) as Baseline) : { benches: {} };
const rows = compareWithBaseline(results, baseline);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);
const lines = [
  `Machine: ${machine}. Date: ${date}. Baseline: bench/baseline.json (${[...new Set(results.map((r) => baseline.benches[r.name]?.date ?? 'none'))].join(', ')}).`,
  '',
  '| benchmark | measure | value | baseline | change |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map((row) =>
    row.kind === 'figure'
      ? `| ${row.bench} | ${row.label} | ${format(row.value)} ${row.unit} | ${row.baseline === undefined ? '' : `${format(row.baseline)} ${row.unit}`} | ${changeText(row)} |`
      : `| ${row.bench} | **ratio** ${row.label}${row.target ? ` (target ${row.target})` : ''} | **${format(row.value)}** | ${row.baseline === undefined ? '' : format(row.baseline)} | ${changeText(row)} |`,
  ),
];
const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`));
const markdown = [...lines, '', ...notes].join('\n') + '\n';
const dir = join(REPO, 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'latest.md'), markdown);
writeFileSync(join(dir, 'latest.json'), JSON.stringify({ machine, results, rows }, null, 2));
process.stdout.write(markdown);

if (update) {
  // Four significant digits: more is noise on this machine, and the file stays readable in a diff.
  const rounded = (_: string, v: unknown): unknown => (typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(4)) : v);
  writeFileSync(baselinePath, JSON.stringify(withResults(baseline, results, machine, date), rounded, 2) + '\n');
  process.stderr.write(`wrote ${results.map((r) => r.name).join(', ')} into bench/baseline.json\n`);
}
const regressions = rows.filter((r) => r.regression);
if (regressions.length > 0) {
  process.stderr.write(
    [
      '',
      `REGRESSION: ${regressions.length} ratio${regressions.length === 1 ? '' : 's'} more than ${TOLERANCE * 100}% worse than bench/baseline.json:`,
      ...regressions.map(
        (r) => `  ${r.bench}: ${r.label}: ${format(r.baseline!)} -> ${format(r.value)} (${changeText(r).replace(/\*/g, '')})`,
      ),
      'Find the cause, or run again with --update-baseline if the change is meant (and say why in the commit).',
      '',
    ].join('\n'),
  );
  if (!update) process.exitCode = 1;
}
