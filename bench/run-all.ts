// `npm run bench`: runs every benchmark, prints a Markdown table and writes bench/results/latest.{md,json}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from './bench-result.js';
import { REPO } from './bench-tools.js';
import { dataParallel } from './data-parallel.js';
import { gcsStream } from './gcs-stream.js';
import { jaxRuntime } from './jax-runtime.js';
import { loraBench } from './lora.js';
import { preflightBench } from './preflight.js';
import { pipeline } from './pipeline.js';
import { planScale } from './plan-scale.js';
import { taxonomyEval } from './taxonomy-eval.js';
import { yamlParse } from './yaml-parse.js';

const benches: Record<string, () => Promise<BenchResult>> = {
  'plan-scale': planScale,
  pipeline,
  'data-parallel': dataParallel,
  'gcs-stream': gcsStream,
  taxonomy: taxonomyEval,
  'yaml-parse': yamlParse,
  'jax-runtime': jaxRuntime,
  lora: loraBench,
  preflight: preflightBench,
};

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3);
}

const chosen = process.argv.slice(2);
const results: BenchResult[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (chosen.length > 0 && !chosen.includes(name)) continue;
  process.stderr.write(`running ${name}...\n`);
  results.push(await bench());
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const lines = [
  `Machine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '| benchmark | measure | value |',
  '| --- | --- | --- |',
];
for (const r of results) {
  for (const f of r.figures) lines.push(`| ${r.name} | ${f.label} | ${format(f.value)} ${f.unit} |`);
  for (const q of r.ratios)
    lines.push(`| ${r.name} | **ratio** ${q.label}${q.target ? ` (target ${q.target})` : ''} | **${format(q.value)}** |`);
}
const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`));
const markdown = [...lines, '', ...notes].join('\n') + '\n';
const dir = join(REPO, 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'latest.md'), markdown);
writeFileSync(join(dir, 'latest.json'), JSON.stringify({ machine, results }, null, 2));
process.stdout.write(markdown);
