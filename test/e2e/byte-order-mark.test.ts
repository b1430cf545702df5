// Files saved by Windows editors start with a UTF-8 byte-order mark: FASTA, FASTQ (plain or gzip), the
// taxonomy TSV and the workflow YAML are read through it, and a message that quotes input shows an
// invisible character as an escape instead of hiding it.
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const BOM = '\uFEFF';
const FASTA = '>r1 first\nACGTACGTAC\n>r2\nGGGCCCAAAT\n';
const FASTQ = '@r1 first\nACGTACGTAC\n+\nIIIIIIIIII\n@r2\nGGGCCCAAAT\n+\nIIIIIIIIII\n';
const TAXONOMY = 'id\tgenus\nr1\tSaccharomyces\nr2\tCandida\n';

function workflow(path: string, extra = ''): string {
  return `version: 1
name: bom
steps:
  source: { uses: source/fasta, with: { path: ${path}${extra} } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 3 } }
  out: { uses: export/parquet, needs: [profile, source], with: { path: out/rows.parquet } }
`;
}

async function rows(root: string, columns: string[]): Promise<Record<string, unknown>[]> {
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  return parquetReadObjects({ file: await asyncBufferFromFile(`${root}/out/rows.parquet`), columns });
}

describe('a leading byte-order mark', () => {
  it.each([
    ['FASTA', 'in.fa', BOM + FASTA],
    ['FASTQ', 'in.fq', BOM + FASTQ],
    ['gzip FASTA', 'in.fa.gz', gzipSync(BOM + FASTA)],
  ])('is read through in %s, and the first record keeps its id', async (_kind, name, content) => {
    const root = writeProject({ [name]: content, 'flow.yaml': workflow(name) });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await rows(root, ['id', 'sequence'])).toEqual([
      { id: 'r1', sequence: 'ACGTACGTAC' },
      { id: 'r2', sequence: 'GGGCCCAAAT' },
    ]);
  });

  it('is read through in the taxonomy TSV and the workflow file', async () => {
    const root = writeProject({
      'in.fa': FASTA,
      'taxonomy.tsv': BOM + TAXONOMY,
      'flow.yaml': BOM + workflow('in.fa', ', taxonomy: taxonomy.tsv'),
    });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await rows(root, ['id', 'genus'])).toEqual([
      { id: 'r1', genus: 'Saccharomyces' },
      { id: 'r2', genus: 'Candida' },
    ]);
  });

  it('takes no column in a diagnostic on the first line of a workflow file', () => {
    const root = writeProject({ 'flow.yaml': `${BOM}stepz: {}\nversion: 1\nname: bom\n` });
    const run = runCli(['validate', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'flow.yaml:1:1: error: unknown key "stepz" in the workflow (did you mean "steps"?) [unknown-key]\n1 | stepz: {}\n  | ^~~~~\n',
    );
  });
});

describe('a message that quotes input', () => {
  it('shows an invisible character at the start of a FASTA file escaped', () => {
    const root = writeProject({ 'in.fa': `\u200B${FASTA}`, 'flow.yaml': workflow('in.fa') });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('in.fa:1: not a FASTA or FASTQ file (the first line starts with "\\u200B>r1 first")');
  });

  it('shows a byte-order mark inside a sequence escaped', () => {
    const root = writeProject({ 'in.fa': `>r1\nACG${BOM}TACGTAC\n`, 'flow.yaml': workflow('in.fa') });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('character "\\uFEFF" at position 4 is not a nucleotide');
  });

  it('shows invisible characters in a workflow key escaped in its diagnostic', () => {
    const root = writeProject({ 'flow.yaml': workflow('in.fa').replace('  profile:', `  pro\u00A0file:`) });
    const run = runCli(['validate', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('name "pro\\u00A0file" in steps is not allowed');
  });
});
