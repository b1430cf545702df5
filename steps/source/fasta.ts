// Owns the `source/fasta` step: FASTA/FASTQ files (plain or gzip, a path or glob) into `sequences`
// shards, with the lineage from UNITE-style headers, a regex, or a taxonomy TSV joined by id.
import { readFileSync } from 'node:fs';
import { defineStep, StepError, withoutByteOrderMark } from '../../engine/index.js';
import { countFastaRecords } from './count-fasta-records.js';
import { readFastaRecords } from './fasta-records.js';
import { headerId, parseRegexLineage, parseUniteLineage, RANKS } from './lineage.js';
import {
  HYGIENE_SCHEMA,
  sourcePathSchema,
  sourceFiles,
  writeSequenceShards,
  type HygieneParams,
  type MetadataColumn,
  type SourceRecord,
} from './sequence-shards.js';

interface FastaParams extends HygieneParams {
  path: string;
  lineage: 'none' | 'unite' | 'regex';
  lineage_regex?: string;
  taxonomy?: string;
}

function readTaxonomy(path: string): { columns: string[]; rows: Map<string, string[]> } {
  const lines = withoutByteOrderMark(readFileSync(path, 'utf8'))
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = lines[0]?.split('\t') ?? [];
  if (header.length < 2)
    throw new StepError(
      `${path}: a taxonomy TSV needs a header row with an id column and at least one more`,
      'first column: id; others: ranks or metadata',
    );
  const rows = new Map(
    lines.slice(1).map((l) => {
      const cells = l.split('\t');
      return [cells[0]!, cells.slice(1)] as const;
    }),
  );
  return { columns: header.slice(1), rows };
}

export const fastaSource = defineStep<FastaParams>({
  id: 'source/fasta',
  version: '1',
  description: 'Read FASTA/FASTQ (plain or gzip) into sequence shards, with lineages from headers or a TSV.',
  with: {
    required: ['path'],
    properties: {
      path: sourcePathSchema('a file or glob (*.fasta.gz, gs://bucket/reads/*.fastq.gz)'),
      lineage: { enum: ['none', 'unite', 'regex'], default: 'none', description: 'parse the lineage from headers' },
      lineage_regex: { type: 'string', description: 'with lineage: regex — named groups become columns' },
      taxonomy: { type: 'string', 'x-strand-path': 'input', description: 'a TSV joined by id (first column)' },
      ...HYGIENE_SCHEMA,
    },
  },
  inputs: {},
  outputs: { sequences: { type: 'sequences' } },
  async countSequences(params, data) {
    const counted = await countFastaRecords(await data.inputFiles(params.path));
    return { ...counted, shards: Math.ceil(counted.count / params.shard_rows) };
  },
  async run(ctx) {
    const p = ctx.params;
    const files = await sourceFiles(ctx, p.path);
    let pattern: RegExp | undefined;
    if (p.lineage === 'regex') {
      if (p.lineage_regex === undefined)
        throw new StepError('lineage: regex needs lineage_regex', 'e.g. lineage_regex: "g__(?<genus>[^;]+);s__(?<species>[^|]+)"');
      try {
        pattern = new RegExp(p.lineage_regex);
      } catch (error) {
        throw new StepError(`lineage_regex is not a valid regular expression: ${(error as Error).message}`);
      }
    }
    const taxonomy = p.taxonomy === undefined ? undefined : readTaxonomy(ctx.resolvePath(p.taxonomy));
    const lineageColumns = p.lineage === 'unite' ? [...RANKS] : pattern ? Object.keys(parseRegexLineage('', pattern)) : [];
    const columns: MetadataColumn[] = [...lineageColumns, ...(taxonomy?.columns ?? [])].map((name) => ({ name, kind: 'text' }));
    async function* records(): AsyncGenerator<SourceRecord> {
      for (const file of files) {
        const label = file.label;
        let n = 0;
        for await (const record of readFastaRecords(file)) {
          n++;
          const id = headerId(record.header);
          const metadata: Record<string, string | null> =
            p.lineage === 'unite' ? parseUniteLineage(record.header) : pattern ? parseRegexLineage(record.header, pattern) : {};
          if (taxonomy) {
            const row = taxonomy.rows.get(id);
            taxonomy.columns.forEach((c, i) => (metadata[c] = row?.[i] ?? null));
          }
          yield { id, sequence: record.sequence, metadata, where: `${label}:${record.line} record ${n}` };
        }
      }
    }
    return writeSequenceShards(ctx, records(), columns, p, { source: 'fasta', files: files.map((f) => f.label) });
  },
});
