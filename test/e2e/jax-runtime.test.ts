// embed/nt through the built CLI on the JAX runtime (runtime/jax/.venv, which `npm test` creates first):
// 8 XLA host devices and a 2x2x2 mesh give the vectors onnxruntime gives; the cache key holds the
// runtime and the precision but not the mesh; a killed run resumes after its last recorded shard.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { arrow } from '../../engine/util/arrow.js';
import { copyFromRepo, exited, removeProjects, runCli, startCli, waitFor, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

interface Variant {
  on?: 'host8' | 'laptop' | 'gpu';
  mesh?: string;
  precision?: 'fp32' | 'bf16';
  shardRows?: number;
  out?: string;
}

function flow(v: Variant): string {
  return `version: 1
name: nt-runtimes
devices:
  host8: { kind: cpu, runtime: jax, devices: 8 }
  laptop: { kind: cpu }
  gpu: { kind: gpu, type: h100 }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: ${v.shardRows ?? 250} } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed:
    uses: embed/nt
    needs: [tokens]
    with: { model: models/tiny-nt }
${v.on ? `    on: ${v.on}\n` : ''}${v.mesh ? `    mesh: ${v.mesh}\n` : ''}${v.precision ? `    precision: ${v.precision}\n` : ''}  vectors: { uses: export/parquet, needs: [embed], with: { path: ${v.out ?? 'out/v.arrow'}, format: arrow } }
`;
}

function project(v: Variant): string {
  const root = writeProject({ 'flow.yaml': flow(v) });
  copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx', 'models/tiny-nt');
  return root;
}

const MESH = '{ data: 2, fsdp: 2, tp: 2 }';
const events = (stdout: string): RunEvent[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
const ofStep = <K extends RunEvent['kind']>(list: RunEvent[], kind: K, step = 'embed') =>
  list.filter((e): e is Extract<RunEvent, { kind: K }> => e.kind === kind && 'step' in e && e.step === step);

function vectors(path: string): Map<string, Float32Array> {
  const table = arrow.tableFromIPC(readFileSync(path));
  const out = new Map<string, Float32Array>();
  for (let i = 0; i < table.numRows; i++) {
    const row = table.get(i) as unknown as { id: string; vector: { toArray(): Float32Array } };
    out.set(row.id, Float32Array.from(row.vector.toArray()));
  }
  return out;
}

function maxDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...a.keys()]).toEqual([...b.keys()]);
  let max = 0;
  for (const [id, x] of a) x.forEach((v, j) => (max = Math.max(max, Math.abs(v - b.get(id)![j]!))));
  return max;
}

function planOf(root: string): { step: string; status: string; reasons: unknown[] } {
  const plan = runCli(['plan', 'flow.yaml', '--json'], root);
  expect(plan.status, plan.stderr).toBe(0);
  return (JSON.parse(plan.stdout) as { steps: { step: string; status: string; reasons: unknown[] }[] }).steps.find(
    (s) => s.step === 'embed',
  )!;
}

describe('embed/nt on the JAX runtime', () => {
  it('gives the vectors onnxruntime gives, and keys the cache by runtime and precision but not by mesh', () => {
    const root = project({ on: 'host8', mesh: MESH });
    const jax = runCli(['run', 'flow.yaml', '--json'], root);
    expect(jax.status, jax.stderr).toBe(0);
    const finished = ofStep(events(jax.stdout), 'step-finished')[0]!;
    // The 1,000 ITS barcodes are 55-212 tokens: length buckets 64, 128 and 256 (up to max_tokens 1000).
    expect(finished.summary).toMatchObject({
      sequences: 1000,
      runtime: 'jax',
      mesh: '2x2x2',
      devices: 8,
      platform: 'cpu',
      compilations: 3,
      buckets: '64,128,256',
    });
    const onJax = vectors(join(root, 'out/v.arrow'));

    const again = events(runCli(['run', 'flow.yaml', '--json'], root).stdout);
    expect(ofStep(again, 'step-cached')).toHaveLength(1);

    writeProjectFile(root, flow({ on: 'host8', mesh: '{ data: 8 }' }));
    expect(planOf(root).status).toBe('cached');
    writeProjectFile(root, flow({ on: 'host8', mesh: MESH, precision: 'bf16' }));
    expect(planOf(root)).toMatchObject({
      status: 'will-run',
      reasons: [{ kind: 'numerics-changed', name: 'precision', from: 'fp32', to: 'bf16' }],
    });

    writeProjectFile(root, flow({ on: 'laptop' }));
    const onnx = events(runCli(['run', 'flow.yaml', '--json'], root).stdout);
    expect(ofStep(onnx, 'step-started')[0]!.reasons).toEqual([{ kind: 'numerics-changed', name: 'runtime', from: 'jax', to: 'onnx' }]);
    expect(ofStep(onnx, 'step-finished')[0]!.summary).toMatchObject({ sequences: 1000, runtime: 'onnx' });
    expect(maxDifference(onJax, vectors(join(root, 'out/v.arrow')))).toBeLessThan(1e-4);
  }, 600_000);

  it('resumes a killed run from the last completed shard', async () => {
    const root = project({ on: 'host8', mesh: MESH, shardRows: 100 });
    const child = startCli(['run', 'flow.yaml'], root);
    const journal = (): RunEvent[] => {
      const runs = join(root, '.strand', 'runs');
      return listRuns(runs).map((id) => readJournal(journalPath(runs, id)))[0] ?? [];
    };
    await waitFor(() => ofStep(journal(), 'shard-done').length > 0, 'the first embedded shard', 300_000);
    child.kill('SIGKILL');
    await exited(child);
    const killed = ofStep(journal(), 'shard-done').map((e) => e.unit);

    const resumed = runCli(['run', 'flow.yaml', '--json'], root);
    expect(resumed.status, resumed.stderr).toBe(0);
    const second = events(resumed.stdout);
    const all = Array.from({ length: 10 }, (_, i) => `output:embeddings:${i}`);
    // What the killed run recorded is resumed, never recomputed; the rest is computed once.
    expect(ofStep(second, 'shard-resumed').map((e) => e.unit)).toEqual(killed);
    expect(ofStep(second, 'shard-done').map((e) => e.unit)).toEqual(all.filter((u) => !killed.includes(u)));
    expect(ofStep(second, 'shard-done').length).toBeGreaterThan(0);

    writeProjectFile(root, flow({ shardRows: 100, out: 'out/onnx.arrow' }));
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    expect(maxDifference(vectors(join(root, 'out/v.arrow')), vectors(join(root, 'out/onnx.arrow')))).toBeLessThan(1e-4);
  }, 600_000);

  it('stops a step placed on a GPU before it computes anything when JAX sees no GPU (this machine has none)', () => {
    const root = project({ on: 'gpu', mesh: '{ data: 1 }' });
    const run = runCli(['run', 'flow.yaml', '--plain'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAILED +embed: JAX runtime: this step is placed on a gpu, and JAX here sees only cpu devices/);
    expect(run.stdout).toContain('strand doctor');
    expect(run.stdout).not.toMatch(/done +embed/);
    expect(existsSync(join(root, 'out/v.arrow'))).toBe(false);
  }, 600_000);

  it('searches a table whose vectors JAX made on 8 host devices by sequence: the row of that sequence comes first', async () => {
    const root = writeProject({
      'flow.yaml': `version: 1
name: jax-table
devices:
  host8: { kind: cpu, runtime: jax, devices: 8 }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 250 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed: { uses: embed/nt, needs: [tokens], with: { model: models/tiny-nt }, on: host8, mesh: ${MESH} }
  vectors: { uses: export/lancedb, needs: [embed, source], with: { uri: out/t.lancedb, table: sequences } }
`,
    });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt');
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(join(root, 'out/t.lancedb'))).openTable('sequences');
    const rows = await table.query().limit(5).toArray();
    const { id, sequence } = rows[3] as { id: string; sequence: string };
    const hit = runCli(['search', 'out/t.lancedb', '--sequence', sequence, '--k', '3', '--json'], root);
    expect(hit.stderr).toBe('');
    expect(hit.status).toBe(0);
    const [first] = JSON.parse(hit.stdout);
    expect(first.id).toBe(id);
    // One XLA device here against the 2x2x2 mesh there: the same arithmetic regrouped.
    expect(first._distance).toBeLessThan(1e-6);
  }, 600_000);

  it('fails with the setup command when the Python environment is missing', () => {
    const root = project({ on: 'host8', mesh: MESH });
    const run = runCli(['run', 'flow.yaml', '--plain'], root, { STRAND_PYTHON: join(root, 'no-venv/bin/python') });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`FAILED    embed: cannot start the JAX runtime's Python (${join(root, 'no-venv/bin/python')}): ENOENT`);
    expect(run.stdout).toContain('hint: run `npm run setup:jax`');
  });
});

function writeProjectFile(root: string, text: string): void {
  writeFileSync(join(root, 'flow.yaml'), text);
}
