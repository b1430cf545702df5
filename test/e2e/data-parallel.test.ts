// Local data-parallel embedding: `mesh: { data: N }` on a `kind: cpu` device runs N onnxruntime
// sessions sharing the cores, taking shards as they free up; without a mesh the step chooses (the tiny model:
// a session per core, one per 4 shards); the vectors are the same whatever N.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const flow = (workers: number | undefined) => `version: 1
name: dp
devices:
  laptop: { kind: cpu }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 125 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  embed: { uses: embed/onnx, needs: [tokens], with: { model: models/tiny-nt.onnx, threads: 2 }${workers === undefined ? '' : `, on: laptop, mesh: { data: ${workers} }`} }
  out: { uses: export/parquet, needs: [embed, source], with: { path: out/v.parquet, format: arrow } }
`;

describe('local data-parallel workers', () => {
  it('writes the same vectors with 1 and 2 workers, and with the sessions the step chose', () => {
    const outputs = [1, 2, undefined].map((workers) => {
      const root = writeProject({ 'flow.yaml': flow(workers) });
      copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
      const run = runCli(['run', 'flow.yaml', '--json'], root);
      expect(run.status).toBe(0);
      const events = run.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.filter((e) => e.kind === 'shard-done' && e.step === 'embed')).toHaveLength(8);
      const finished = events.find((e) => e.kind === 'step-finished' && e.step === 'embed');
      // Undeclared: the tiny model (1.6 MB) gets a single-threaded session per core it may use (threads: 2).
      expect(finished?.summary).toMatchObject({ sessions: workers ?? Math.min(availableParallelism(), 2) });
      return readFileSync(join(root, 'out/v.parquet'));
    });
    expect(outputs[1]!.equals(outputs[0]!)).toBe(true);
    expect(outputs[2]!.equals(outputs[0]!)).toBe(true);
  });

  it('refuses a damaged model with its workers started, as one session does, and writes nothing', () => {
    const root = writeProject({ 'flow.yaml': flow(2) });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
    const model = join(root, 'models/tiny-nt.onnx');
    writeFileSync(model, readFileSync(model).subarray(0, 5000));
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAILED +embed: cannot load ONNX model models\/tiny-nt\.onnx/);
    expect(run.stderr).toBe('');
    expect(existsSync(join(root, 'out/v.parquet'))).toBe(false);
  });

  it('keeps placement out of the cache key', () => {
    const root = writeProject({ 'flow.yaml': flow(1) });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    writeFileSync(join(root, 'flow.yaml'), flow(2));
    expect(runCli(['plan', 'flow.yaml', '--check'], root).status).toBe(0);
  });
});
