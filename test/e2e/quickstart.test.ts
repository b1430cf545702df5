// The README's first command, as a new user runs it: the quickstart writes a real LanceDB table
// from the repository's sample data and model; a second run is all cached; search finds neighbours.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';

let root: string;
let firstRun: ReturnType<typeof runCli>;

beforeAll(() => {
  root = writeProject({});
  copyFromRepo(root, 'workflows/quickstart.yaml', 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
  firstRun = runCli(['run', 'workflows/quickstart.yaml'], root);
});
afterAll(removeProjects);

describe('quickstart', () => {
  it('runs every step and writes 1,000 rows to LanceDB', async () => {
    expect(firstRun.stderr).toBe('');
    expect(firstRun.status).toBe(0);
    expect(firstRun.stdout).toMatch(/done +vectors .*rows=1000/);
    const lancedb = await import('@lancedb/lancedb');
    const db = await lancedb.connect(join(root, 'out/quickstart.lancedb'));
    const table = await db.openTable('sequences');
    expect(await table.countRows()).toBe(1000);
    const [row] = await table.query().where("id = 'KY106088'").toArray();
    expect(row.genus).toBe('Zygotorulaspora');
    expect(row.vector.length).toBe(64);
    expect((await table.listIndices()).map((i: { columns: string[] }) => i.columns)).toEqual([['id']]);
  });

  it('is all cached the second time, and plan --check agrees', () => {
    const again = runCli(['run', 'workflows/quickstart.yaml', '--json'], root);
    const kinds = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).kind)
      .filter((k) => k !== 'resource-sample');
    expect(kinds).toEqual(['run-planned', 'run-started', 'step-cached', 'step-cached', 'step-cached', 'step-cached', 'run-finished']);
    expect(runCli(['plan', 'workflows/quickstart.yaml', '--check'], root).status).toBe(0);
  });

  it("finds a sequence's own row first when searching by id and by sequence", () => {
    const byId = runCli(['search', 'out/quickstart.lancedb', '--id', 'KY106088', '--k', '3'], root);
    expect(byId.status).toBe(0);
    expect(byId.stdout.split('\n')[0]).toMatch(/^0\.0000 {2}KY106088 .*Zygotorulaspora_mrakii/);
    const lancedbRow = runCli(['search', 'out/quickstart.lancedb', '--id', 'KY106088', '--k', '1', '--json'], root);
    expect(JSON.parse(lancedbRow.stdout)[0].id).toBe('KY106088');
  });

  it('searches only the rows a --where filter passes, giving the true nearest among them', async () => {
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(join(root, 'out/quickstart.lancedb'))).openTable('sequences');
    const rows = (await table.query().toArray()) as { id: string; genus: string; vector: ArrayLike<number> }[];
    const query = Array.from(rows.find((r) => r.id === 'KY106088')!.vector);
    const where = "genus = 'Candida' OR genus = 'Pichia'";
    // Brute force: squared L2 (LanceDB's default metric) over every row that passes.
    const nearest = rows
      .filter((r) => r.genus === 'Candida' || r.genus === 'Pichia')
      .map((r) => ({ id: r.id, d: Array.from(r.vector).reduce((sum, v, i) => sum + (v - query[i]!) ** 2, 0) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, 5);
    expect(nearest).toHaveLength(5);
    const hit = runCli(['search', 'out/quickstart.lancedb', '--id', 'KY106088', '--where', where, '--k', '5', '--json'], root);
    expect(hit.stderr).toBe('');
    const found = JSON.parse(hit.stdout) as { id: string; genus: string; _distance: number }[];
    expect(found.map((f) => f.id)).toEqual(nearest.map((n) => n.id));
    expect(found.filter((f) => f.genus !== 'Candida' && f.genus !== 'Pichia')).toEqual([]);
    found.forEach((f, i) => expect(f._distance).toBeCloseTo(nearest[i]!.d, 4));
    // A column the table does not have is named, with the columns it has.
    const wrong = runCli(['search', 'out/quickstart.lancedb', '--id', 'KY106088', '--where', 'depth_m > 200'], root);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(
      /^error: --where "depth_m > 200" does not apply to table sequences: .*depth_m.*\nhint: its columns: id, sequence, kingdom, /,
    );
  });

  it('notices a deleted output table and plans to rebuild only the export', () => {
    rmSync(join(root, 'out'), { recursive: true });
    const plan = runCli(['plan', 'workflows/quickstart.yaml'], root);
    expect(plan.stdout).toMatch(/cached +source/);
    expect(plan.stdout).toMatch(/will run +vectors +export\/lancedb +output out\/quickstart.lancedb is missing/);
    expect(runCli(['plan', 'workflows/quickstart.yaml', '--check'], root).status).toBe(1);
    expect(runCli(['run', 'workflows/quickstart.yaml'], root).status).toBe(0);
  });

  it('embeds a query sequence the way the table was built', async () => {
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(join(root, 'out/quickstart.lancedb'))).openTable('sequences');
    const [row] = await table.query().where("id = 'KY105738'").toArray();
    const sequence = String(row.sequence);
    const hit = runCli(['search', 'out/quickstart.lancedb', '--sequence', sequence, '--k', '1', '--json'], root);
    expect(hit.status).toBe(0);
    const [first] = JSON.parse(hit.stdout);
    expect(first.id).toBe('KY105738');
    expect(first._distance).toBeLessThan(1e-6);
    expect(runCli(['search', 'out/quickstart.lancedb', '--sequence', 'ACGTQ'], root)).toMatchObject({
      status: 1,
      stderr:
        'error: query.fasta:1 record 1 (id query): character "Q" at position 5 is not a nucleotide\nhint: give a DNA sequence (A, C, G, T, N or IUPAC codes)\n',
    });
  });
});
