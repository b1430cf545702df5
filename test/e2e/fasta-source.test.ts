// source/fasta on the real yeast ITS barcodes in data/mycoai-yeast-its (4,439 records):
// UNITE lineages from headers, the taxonomy TSV joined by id, and gzip input.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { removeProjects, runCli, ITS_DATA, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const FASTA = join(ITS_DATA, 'yeast_its_test1.fasta');

describe('source/fasta on the full ITS data', () => {
  it('reads every record with its lineage, gzip or not, and joins the taxonomy TSV', async () => {
    const root = writeProject({
      'its.fasta.gz': gzipSync(readFileSync(FASTA)),
      'flow.yaml': `version: 1
name: its
steps:
  plain: { uses: source/fasta, with: { path: ${JSON.stringify(FASTA)}, lineage: unite, shard_rows: 1000 } }
  gz: { uses: source/fasta, with: { path: its.fasta.gz, taxonomy: ${JSON.stringify(join(ITS_DATA, 'taxonomy.tsv'))}, invalid: to-n } }
  a: { uses: export/parquet, inputs: { embeddings: "\${{ steps.pa.outputs.embeddings }}", metadata: "\${{ steps.plain.outputs.sequences }}" } }
  pa: { uses: embed/kmer-profile, needs: [plain], with: { k: 3 } }
  pb: { uses: embed/kmer-profile, needs: [gz], with: { k: 3 } }
  b: { uses: export/parquet, needs: [pb, gz], with: { path: out/b.parquet } }
`.replace('export/parquet, inputs', 'export/parquet, with: { path: out/a.parquet }, inputs'),
    });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.stdout).toMatch(/done +plain .*records=4439 written=4439/);
    expect(run.status).toBe(0);
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    const a = await parquetReadObjects({
      file: await asyncBufferFromFile(join(root, 'out/a.parquet')),
      columns: ['id', 'genus', 'species'],
    });
    const b = await parquetReadObjects({
      file: await asyncBufferFromFile(join(root, 'out/b.parquet')),
      columns: ['id', 'genus', 'unite_sh'],
    });
    expect(a).toHaveLength(4439);
    expect(a[0]).toEqual({ id: 'KY106088', genus: 'Zygotorulaspora', species: 'Zygotorulaspora_mrakii' });
    expect(b[0]).toEqual({ id: 'KY106088', genus: 'Zygotorulaspora', unite_sh: 'SH1312607.09FU' });
  });
});
