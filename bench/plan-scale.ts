// bench/plan-scale: `strand plan --json` on generated workflows of 1,000, 10,000 and 100,000 steps (best of
// 3 whole processes, with the peak RSS of the three), against `snakemake -n` on the same DAG up to 10,000
// steps when Debian's snakemake is installed (measured in the same run); issue 27's shape of source/fasta +
// tokenize/char steps at 10,000 and 100,000; and a no-op `strand run` of an all-cached workflow against its
// first run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from './bench-result.js';
import { copyIn, median, REPO, runStrand, tempProject } from './bench-tools.js';

const NOOP_PLUGIN = `import { arrow, defineStep } from ${JSON.stringify(join(REPO, 'dist/engine/index.js'))};
export default defineStep({
  id: 'noop', version: '1', description: 'one tiny shard', with: { properties: { n: { type: 'integer' } } },
  inputs: { a: { type: 'numbers', optional: true }, b: { type: 'numbers', optional: true } },
  outputs: { out: { type: 'numbers' } },
  async run(ctx) {
    await ctx.output('out').shard(0, async () => new arrow.Table({ n: arrow.vectorFromArray([ctx.params.n]) }));
  },
});
`;

/** Layers of 100 steps; each step depends on two steps of the layer before (snakemake recurses per layer). */
const WIDTH = 100;
function parents(i: number): number[] {
  const layer = Math.floor(i / WIDTH);
  if (layer === 0) return [];
  const base = (layer - 1) * WIDTH;
  return [...new Set([base + (i % WIDTH), base + ((i + 1) % WIDTH)])];
}

/** A workflow of `n` no-op steps in layers of 100, each step wired to two of the layer before. */
export function strandWorkflow(n: number): string {
  const lines = ['version: 1', `name: scale${n}`, 'steps:'];
  for (let i = 0; i < n; i++) {
    const p = parents(i);
    const inputs = p.map((x, k) => `${k === 0 ? 'a' : 'b'}: "\${{ steps.s${x}.outputs.out }}"`).join(', ');
    lines.push(`  s${i}: { uses: ./noop.mjs, with: { n: ${i} }${p.length ? `, inputs: { ${inputs} }` : ''} }`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The shape of issue 27: `n / 2` source/fasta steps on the shipped sample, each with a tokenize/char step that
 * needs it. Every source step is planned against the file (its digest, its record, its history).
 */
export function fastaWorkflow(n: number): string {
  const lines = ['version: 1', `name: fasta${n}`, 'steps:'];
  for (let i = 0; i < n / 2; i++)
    lines.push(
      `  src${i}: { uses: source/fasta, with: { path: workflows/data/sample.fasta.gz } }`,
      `  tok${i}: { uses: tokenize/char, needs: [src${i}] }`,
    );
  return lines.join('\n') + '\n';
}

/** Best of 3 whole `strand plan --json` processes in `root`, with the peak RSS of the three. */
function bestPlan(root: string): { ms: number; maxRssMiB: number } {
  const runs = [0, 1, 2].map(() => {
    const r = runStrand(['plan', 'flow.yaml', '--json'], root);
    if (r.status !== 0) throw new Error(`plan failed: ${r.stderr}`);
    return r;
  });
  return { ms: Math.min(...runs.map((r) => r.ms)), maxRssMiB: Math.max(...runs.map((r) => r.maxRssMiB)) };
}

function snakefile(n: number): string {
  const rules = [`rule all:\n    input: ${Array.from({ length: WIDTH }, (_, k) => `"o/${n - WIDTH + k}.txt"`).join(', ')}\n`];
  for (let i = 0; i < n; i++) {
    const p = parents(i);
    rules.push(
      `rule s${i}:\n${p.length ? `    input: ${p.map((x) => `"o/${x}.txt"`).join(', ')}\n` : ''}    output: "o/${i}.txt"\n    shell: "touch {output}"\n`,
    );
  }
  return rules.join('\n');
}

function hasSnakemake(): boolean {
  return spawnSync('snakemake', ['--version'], { encoding: 'utf8' }).status === 0;
}

export async function planScale(): Promise<BenchResult> {
  const result: BenchResult = { name: 'plan-scale', figures: [], ratios: [], notes: [] };
  const snakemake = hasSnakemake();
  for (const n of [1000, 10000, 100000]) {
    const { root, remove } = tempProject();
    writeFileSync(join(root, 'noop.mjs'), NOOP_PLUGIN);
    writeFileSync(join(root, 'flow.yaml'), strandWorkflow(n));
    const { ms: planMs, maxRssMiB } = bestPlan(root);
    result.figures.push(
      { label: `strand plan --json, ${n} steps (best of 3)`, value: planMs, unit: 'ms' },
      { label: `strand plan --json, ${n} steps: peak RSS`, value: maxRssMiB, unit: 'MiB' },
    );
    if (n === 100000) result.notes.push('plan-scale: targets at 100,000 steps are under 3,000 ms and under 500 MB peak RSS (issue 27).');
    if (snakemake && n <= 10000) {
      mkdirSync(join(root, 'sm'));
      writeFileSync(join(root, 'sm', 'Snakefile'), snakefile(n));
      const smTimes = [0, 1, 2].map(() => {
        const start = performance.now();
        execFileSync('snakemake', ['-n', '--cores', '1', '--quiet'], { cwd: join(root, 'sm'), stdio: 'ignore' });
        return performance.now() - start;
      });
      const smMs = median(smTimes);
      result.figures.push({ label: `snakemake -n, ${n} jobs`, value: smMs, unit: 'ms' });
      result.ratios.push({
        label: `plan time strand / snakemake, ${n} steps`,
        value: planMs / smMs,
        ...(n === 10000 ? { target: '<= 0.1' } : {}),
        better: 'lower',
      });
    }
    if (n === 1000) {
      const first = runStrand(['run', 'flow.yaml', '--jobs', '2'], root);
      if (first.status !== 0) throw new Error(`run failed: ${first.stdout}${first.stderr}`);
      const noop = median([0, 1, 2].map(() => runStrand(['run', 'flow.yaml'], root).ms));
      result.figures.push(
        { label: 'first run, 1000 steps', value: first.ms, unit: 'ms' },
        { label: 'no-op run (all cached), 1000 steps', value: noop, unit: 'ms' },
      );
      result.ratios.push({ label: 'no-op run / first run, 1000 steps', value: noop / first.ms, better: 'lower' });
    }
    remove();
  }
  for (const n of [10000, 100000]) {
    const { root, remove } = tempProject();
    copyIn(root, 'workflows/data/sample.fasta.gz');
    writeFileSync(join(root, 'flow.yaml'), fastaWorkflow(n));
    const { ms, maxRssMiB } = bestPlan(root);
    result.figures.push(
      { label: `strand plan --json, ${n} steps of source/fasta + tokenize/char (best of 3)`, value: ms, unit: 'ms' },
      { label: `strand plan --json, ${n} steps of source/fasta + tokenize/char: peak RSS`, value: maxRssMiB, unit: 'MiB' },
    );
    remove();
  }
  if (!snakemake) result.notes.push('snakemake not installed (apt-get install snakemake): no baseline ratio for plan time');
  return result;
}
