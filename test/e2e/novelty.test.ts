// The novelty workflow end to end through the built CLI: workflows/novelty.yaml (FASTA -> k-mer profiles ->
// taxonomy head -> classify/taxonomy -> cluster/hdbscan in the Python runtime -> LanceDB) gives every row a
// cluster, probability, GLOSH outlier score and novel_cluster flag; two runs in separate projects agree exactly;
// the columns reach export/parquet too; a bad param stops at validate or before the runtime starts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaxPython } from '../helpers/jax-runtime.js';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';

interface ClusterRow {
  id: string;
  cluster: number;
  probability: number;
  outlier_score: number;
  novel_cluster: boolean;
  novel_candidate: boolean;
}

const COLUMNS = ['id', 'cluster', 'probability', 'outlier_score', 'novel_cluster', 'novel_candidate'];

function project(): string {
  const root = writeProject({});
  copyFromRepo(root, 'workflows/novelty.yaml', 'workflows/data/sample.fasta.gz');
  return root;
}

async function lanceRows(root: string): Promise<ClusterRow[]> {
  const lancedb = await import('@lancedb/lancedb');
  const table = await (await lancedb.connect(join(root, 'out/novelty.lancedb'))).openTable('barcodes');
  const rows = (await table.query().select(COLUMNS).toArray()) as ClusterRow[];
  return rows.map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c as keyof ClusterRow]])) as unknown as ClusterRow);
}

let first: string;
let second: string;
beforeAll(() => {
  jaxPython();
  first = project();
  second = project();
  // The second project also exports Parquet, from the same cluster step.
  const flow = readFileSync(join(second, 'workflows/novelty.yaml'), 'utf8');
  writeFileSync(
    join(second, 'workflows/novelty.yaml'),
    `${flow}  table:\n    uses: export/parquet\n    needs: [profile, cluster]\n    with: { path: out/novelty.parquet, include_sequence: false }\n`,
  );
  for (const root of [first, second]) expect(runCli(['run', 'workflows/novelty.yaml'], root).status).toBe(0);
}, 300_000);
afterAll(removeProjects);

describe('workflows/novelty.yaml', () => {
  it('writes cluster columns in range to LanceDB, with novel clusters those mostly of novel candidates', async () => {
    const rows = await lanceRows(first);
    expect(rows).toHaveLength(300);
    const clusters = new Map<number, ClusterRow[]>();
    for (const r of rows) {
      expect(Number.isInteger(r.cluster) && r.cluster >= -1).toBe(true);
      expect(r.probability).toBeGreaterThanOrEqual(0);
      expect(r.probability).toBeLessThanOrEqual(1);
      expect(r.outlier_score).toBeGreaterThanOrEqual(0);
      expect(r.outlier_score).toBeLessThanOrEqual(1);
      clusters.set(r.cluster, [...(clusters.get(r.cluster) ?? []), r]);
    }
    // Noise has membership probability 0 and is never a novel cluster.
    for (const r of clusters.get(-1) ?? []) expect([r.probability, r.novel_cluster]).toEqual([0, false]);
    const found = [...clusters.keys()].filter((c) => c >= 0).sort((a, b) => a - b);
    expect(found.length).toBeGreaterThan(1);
    expect(found).toEqual(found.map((_, i) => i));
    let novel = 0;
    for (const c of found) {
      const members = clusters.get(c)!;
      const candidates = members.filter((m) => m.novel_candidate).length;
      expect(members.every((m) => m.novel_cluster === candidates > members.length / 2)).toBe(true);
      if (candidates > members.length / 2) novel++;
    }
    expect(novel).toBeGreaterThan(0);
    expect(novel).toBeLessThan(found.length);
  });

  it('gives identical columns in a second project, and the same in export/parquet', async () => {
    const byId = (rows: ClusterRow[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    const reference = byId(await lanceRows(first));
    expect(byId(await lanceRows(second))).toEqual(reference);
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    const parquet = (await parquetReadObjects({
      file: await asyncBufferFromFile(join(second, 'out/novelty.parquet')),
      columns: COLUMNS,
    })) as ClusterRow[];
    expect(byId(parquet)).toEqual(reference);
  });
});

describe('the run report of the novelty workflow', () => {
  it('colours the embedding map by cluster and marks noise', () => {
    const made = runCli(['report', '-o', 'novelty.html', '--color-by', 'cluster'], first);
    expect(made.status).toBe(0);
    const page = readFileSync(join(first, 'novelty.html'), 'utf8');
    expect(page).toContain('PCA, coloured by cluster (○ noise, ▲ novel candidate)');
    expect(page).toMatch(/"id":"taxon-noise","name":"noise","type":"scatter","symbolSize":7,"symbol":"emptyCircle"/);
    expect(page).toContain('"name":"cluster 0"');
  });
});

const BAD_FLOW = (params: string) => `version: 1
name: bad
steps:
  source: { uses: source/fasta, with: { path: workflows/data/sample.fasta.gz, lineage: unite, invalid: to-n } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 3 } }
  cluster: { uses: cluster/hdbscan, needs: [profile], with: { ${params} } }
`;

describe('cluster/hdbscan params', () => {
  it('refuses an unknown metric at validate, located', () => {
    const root = writeProject({ 'flow.yaml': BAD_FLOW('metric: manhattan') });
    const result = runCli(['validate', 'flow.yaml'], root);
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain(
      'flow.yaml:6:71: error: steps.cluster.with.metric must be one of "euclidean", "cosine"',
    );
  });

  it('stops before the runtime when reduce_to is more than the dimension, naming the fix', () => {
    const root = writeProject({ 'flow.yaml': BAD_FLOW('reduce_to: 100') });
    copyFromRepo(root, 'workflows/data/sample.fasta.gz');
    const result = runCli(['run', 'flow.yaml'], root);
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toMatch(
      /FAILED +cluster: reduce_to 100 is more than the embeddings' 64 dimensions\n +hint: set reduce_to to at most 64/,
    );
  });
});
