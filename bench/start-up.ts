// bench/start-up: what a user waits for before anything runs — `strand --version`, `strand --help` and
// `strand validate` of the quickstart, each a whole process through bin/strand.js, against `node -e 0`
// measured in the same run. Runs are interleaved (one of each in turn), so a busy moment of this shared
// machine falls on all of them alike; each figure is the best of RUNS.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchResult } from './bench-result.js';
import { REPO, runStrand } from './bench-tools.js';

const RUNS = 15;
const WARM_UP = 2;
const BIN = join(REPO, 'bin/strand.js');

const COMMANDS: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'strand --version': [BIN, '--version'],
  'strand --help': [BIN, '--help'],
  'strand validate workflows/quickstart.yaml': [BIN, 'validate', 'workflows/quickstart.yaml'],
};

function timeOnce(args: string[]): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

export async function startUp(): Promise<BenchResult> {
  const best = new Map(Object.keys(COMMANDS).map((name) => [name, Infinity]));
  for (let i = 0; i < WARM_UP + RUNS; i++) {
    for (const [name, args] of Object.entries(COMMANDS)) {
      const ms = timeOnce(args);
      if (i >= WARM_UP) best.set(name, Math.min(best.get(name)!, ms));
    }
  }
  const node = best.get('node -e 0')!;
  const validate = runStrand(['validate', 'workflows/quickstart.yaml'], REPO);
  return {
    name: 'start-up',
    figures: [
      ...[...best].map(([name, ms]) => ({ label: `${name} (best of ${RUNS})`, value: ms, unit: 'ms' })),
      { label: 'strand validate workflows/quickstart.yaml: peak RSS', value: validate.maxRssMiB, unit: 'MiB' },
    ],
    ratios: [
      { label: 'strand --version / node -e 0', value: best.get('strand --version')! / node, target: '<= 2', better: 'lower' },
      { label: 'strand --help / node -e 0', value: best.get('strand --help')! / node, target: '<= 2', better: 'lower' },
      {
        label: 'strand validate quickstart / node -e 0',
        value: best.get('strand validate workflows/quickstart.yaml')! / node,
        target: 'validate under 250 ms',
        better: 'lower',
      },
    ],
    notes: [
      `whole processes (node ${process.version}), run from the repository root; best of ${RUNS} after ${WARM_UP} warm-up runs, interleaved`,
    ],
  };
}
