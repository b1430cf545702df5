// Corrupt and hostile inputs: bit-flipped Parquet, FASTA, gzip and ONNX files, a 10 MB sequence and a
// million one-base sequences. Each gives a clear error or follows a documented policy; a failed step
// is never recorded as complete.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFromRepo, ITS_DATA, REPO, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

function flipped(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}

/** A run either succeeds or fails with a located, readable message; a failed step leaves no record. */
function expectCleanOutcome(root: string, flow: string, failingStep: string): ReturnType<typeof runCli> {
  const run = runCli(['run', flow], root);
  expect([0, 1]).toContain(run.status);
  expect(run.stderr).not.toContain('internal-error');
  if (run.status === 1) {
    expect(run.stdout).toMatch(new RegExp(`FAILED +${failingStep}: .+`));
    expect(runCli(['cache', 'ls', '--json'], root).stdout).not.toContain(`"step": "${failingStep}"`);
  }
  return run;
}

describe('corrupt inputs', () => {
  it('bit-flipped Parquet files fail with the file named, or load under the hygiene policy', () => {
    const sample = readFileSync(join(REPO, 'workflows/data/sample.parquet'));
    const outcomes = new Set<number | null>();
    for (const at of [4, 1000, Math.floor(sample.length / 2), sample.length - 20, sample.length - 6]) {
      const root = writeProject({
        'in.parquet': flipped(sample, at),
        'flow.yaml': 'version: 1\nname: p\nsteps:\n  source: { uses: source/parquet, with: { path: in.parquet } }\n',
      });
      const run = expectCleanOutcome(root, 'flow.yaml', 'source');
      if (run.status === 1) expect(run.stdout).toContain('in.parquet');
      outcomes.add(run.status);
    }
    expect(outcomes.has(1)).toBe(true);
  });

  it('a bit-flipped gzip FASTA fails with the file named', () => {
    const gz = gzipSync(readFileSync(join(ITS_DATA, 'yeast_its_test1.fasta')).subarray(0, 200_000));
    const root = writeProject({
      'in.fa.gz': flipped(gz, Math.floor(gz.length / 2)),
      'flow.yaml': 'version: 1\nname: g\nsteps:\n  source: { uses: source/fasta, with: { path: in.fa.gz } }\n',
    });
    const run = expectCleanOutcome(root, 'flow.yaml', 'source');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/in\.fa\.gz: cannot read \((invalid|incorrect).*\)/);
  });

  it('a FASTA file with binary garbage stops at the record, naming it', () => {
    const text = readFileSync(join(ITS_DATA, 'yeast_its_test1.fasta')).subarray(0, 50_000);
    const root = writeProject({
      'in.fa': flipped(text, 30_001),
      'flow.yaml': 'version: 1\nname: f\nsteps:\n  source: { uses: source/fasta, with: { path: in.fa } }\n',
    });
    const run = expectCleanOutcome(root, 'flow.yaml', 'source');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/in\.fa:\d+ record \d+ \(id \S+\): character .* is not a nucleotide/);
  });

  it('an ONNX file with a damaged header is refused; damaged weights change the cache key', () => {
    const model = readFileSync(join(REPO, 'models/tiny-nt.onnx'));
    const flow =
      'version: 1\nname: o\nsteps:\n  s: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 500 } }\n  t: { uses: tokenize/nucleotide-transformer, needs: [s] }\n  e: { uses: embed/onnx, needs: [t], with: { model: m.onnx } }\n';
    const root = writeProject({ 'flow.yaml': flow, 'm.onnx': flipped(model, 3) });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    const run = expectCleanOutcome(root, 'flow.yaml', 'e');
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('cannot load ONNX model m.onnx');
    writeFileSync(join(root, 'm.onnx'), model);
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    writeFileSync(join(root, 'm.onnx'), flipped(model, model.length - 1000));
    expect(runCli(['plan', 'flow.yaml'], root).stdout).toMatch(/will run +e +embed\/onnx +input file model changed/);
  });
});

describe('hostile sizes', () => {
  it('handles a 10 MB sequence: windows for the model, a profile for k-mers', () => {
    const root = writeProject({
      'big.fa': `>big\n${'ACGT'.repeat(2_500_000)}\n`,
      'flow.yaml':
        'version: 1\nname: b\nsteps:\n  s: { uses: source/fasta, with: { path: big.fa } }\n  t: { uses: tokenize/nucleotide-transformer, needs: [s], with: { too_long: windows } }\n  p: { uses: embed/kmer-profile, needs: [s], with: { k: 6 } }\n',
    });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/done +t .*rows=815 tokens=1667485 over_max_tokens=1/);
  });

  it('handles a million one-base sequences in bounded shards', () => {
    const root = writeProject({
      'm.fa': Array.from({ length: 1_000_000 }, (_, i) => `>i${i}\nA\n`).join(''),
      'flow.yaml':
        'version: 1\nname: m\nsteps:\n  s: { uses: source/fasta, with: { path: m.fa } }\n  t: { uses: tokenize/nucleotide-transformer, needs: [s] }\n',
    });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/done +s .*records=1000000 written=1000000 .*shards=100/);
    expect(run.stdout).toMatch(/done +t .*tokens=2000000/);
  });
});
