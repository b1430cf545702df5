// A plan names the files of a glob input that changed since the last run: the built CLI, a local glob.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const fasta = (id: string, sequence: string): string => `>${id}\n${sequence}\n`;

describe('a plan after a glob input changed', () => {
  it('names each file changed, added and removed, in text and --json', () => {
    const root = writeProject({
      'flow.yaml': `version: 1
name: globbed
steps:
  source: { uses: source/fasta, with: { path: "data/*.fasta" } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 3 } }
`,
      ...Object.fromEntries(['a', 'b', 'c'].map((n) => [`data/${n}.fasta`, fasta(n, 'ACGTACGT')])),
    });
    const run = runCli(['run', 'flow.yaml', '--plain'], root);
    expect(run.status, run.stderr).toBe(0);
    expect(runCli(['plan', 'flow.yaml', '--plain'], root).stdout).toContain('2 cached');

    writeFileSync(join(root, 'data/b.fasta'), fasta('b', 'GGGGCCCC'));
    rmSync(join(root, 'data/a.fasta'));
    for (const n of ['d', 'e', 'f', 'g']) writeFileSync(join(root, `data/${n}.fasta`), fasta(n, 'ACGT'));

    const plain = runCli(['plan', 'flow.yaml', '--plain'], root);
    expect(plain.status, plain.stderr).toBe(0);
    const text =
      'input file path changed: changed data/b.fasta; added data/d.fasta, data/e.fasta, data/f.fasta and 1 more; removed data/a.fasta';
    expect(plain.stdout.split('\n').find((line) => line.includes('source/fasta'))).toMatch(
      /^ {2}will run +source +source\/fasta +input file/,
    );
    expect(plain.stdout).toContain(`${text}\n`);
    const json = JSON.parse(runCli(['plan', 'flow.yaml', '--json'], root).stdout) as {
      steps: { step: string; reasons: { kind: string; changes?: unknown }[] }[];
    };
    expect(json.steps[0]!.reasons).toEqual([
      {
        kind: 'file-changed',
        name: 'path',
        changes: {
          added: ['d', 'e', 'f', 'g'].map((n) => ({ name: `data/${n}.fasta` })),
          removed: [{ name: 'data/a.fasta' }],
          changed: [{ name: 'data/b.fasta' }],
        },
        text,
      },
    ]);

    // The run's journal line says the same, and its record keeps the new listing for the next plan.
    expect(runCli(['run', 'flow.yaml', '--plain'], root).stdout).toMatch(/run +source: input file path changed: changed data\/b\.fasta;/);
    writeFileSync(join(root, 'data/c.fasta'), fasta('c', 'TTTT'));
    expect(runCli(['plan', 'flow.yaml', '--plain'], root).stdout).toContain('input file path changed: changed data/c.fasta\n');
  });
});
