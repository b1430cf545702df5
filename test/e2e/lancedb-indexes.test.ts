// export/lancedb's indexes from a workflow file: scalar indexes on named metadata columns (for
// `strand search --where`), the ANN index with its parameters, and a column the rows lack refused before
// anything is written.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const FLOW = (extra: string) => `version: 1
name: indexes
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed: { uses: embed/onnx, needs: [tokens], with: { model: models/tiny-nt.onnx } }
  vectors: { uses: export/lancedb, needs: [embed, source], with: { uri: out/t.lancedb, table: sequences${extra} } }
`;

function project(extra: string): string {
  const root = writeProject({ 'flow.yaml': FLOW(extra) });
  copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
  return root;
}

describe('export/lancedb indexes', () => {
  it('builds scalar indexes on the named columns and an IVF-PQ index with the given parameters', async () => {
    const root = project(', index_columns: [genus, family], ann_min_rows: 256, ann: { kind: ivf_pq, partitions: 4, sub_vectors: 8 }');
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(join(root, 'out/t.lancedb'))).openTable('sequences');
    const indices = (await table.listIndices()) as { name: string; columns: string[]; indexType: string }[];
    expect(indices.map((i) => [i.columns[0], i.indexType]).sort()).toEqual([
      ['family', 'BTree'],
      ['genus', 'BTree'],
      ['id', 'BTree'],
      ['vector', 'IvfPq'],
    ]);
    const stats = await table.indexStats(indices.find((i) => i.columns[0] === 'vector')!.name);
    expect(stats?.numIndices).toBe(1);
  });

  it('refuses a column the rows do not have, naming the ones they have, before writing the table', () => {
    const root = project(', index_columns: [depth_m]');
    const run = runCli(['run', 'flow.yaml', '--plain'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAILED +vectors: index_columns: "depth_m" is not a column of the rows written to table sequences/);
    expect(run.stdout).toMatch(/hint: its columns: id, sequence, kingdom, /);
    expect(existsSync(join(root, 'out/t.lancedb'))).toBe(false);
  });
});
