// Builds workflows/data/sample.parquet: 1,000 real yeast ITS barcodes (every 4th record of the MycoAI
// test set 1 in data/mycoai-yeast-its) with their 7-rank lineage, for the quickstart.
// Also writes workflows/data/sample.fasta.gz (the first 300 of them) for the FASTA examples.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readFastaRecords } from '../steps/source/fasta-records.js';
import { headerId, parseUniteLineage, RANKS } from '../steps/source/lineage.js';

/**
 * The quickstart's Parquet (id, sequence, the 7 ranks, unite_sh; row groups of 250) of FASTA records with
 * UNITE headers. Each record's id is its header's, followed by `idSuffix(i)` (to repeat records uniquely).
 */
export function sampleParquet(
  records: readonly { header: string; sequence: string }[],
  idSuffix: (i: number) => string = () => '',
): Uint8Array {
  const lineages = records.map((r) => parseUniteLineage(r.header));
  const columnData = [
    { name: 'id', data: records.map((r, i) => headerId(r.header) + idSuffix(i)), type: 'STRING' as const },
    { name: 'sequence', data: records.map((r) => r.sequence), type: 'STRING' as const },
    ...RANKS.map((rank) => ({ name: rank, data: lineages.map((l) => l[rank]), type: 'STRING' as const, nullable: true })),
    { name: 'unite_sh', data: records.map((r) => r.header.split('|')[2] ?? null), type: 'STRING' as const, nullable: true },
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 250 }));
}

export async function buildSampleData(fasta: string, outDir: string): Promise<void> {
  const picked: { header: string; sequence: string }[] = [];
  let index = 0;
  for await (const record of readFastaRecords(fasta, fasta)) {
    if (index++ % 4 === 0 && picked.length < 1000) picked.push(record);
  }
  writeFileSync(`${outDir}/sample.parquet`, sampleParquet(picked));
  const fastaText = picked
    .slice(0, 300)
    .map((r) => `>${r.header}\n${r.sequence}\n`)
    .join('');
  writeFileSync(`${outDir}/sample.fasta.gz`, gzipSync(fastaText, { level: 9, mtime: 0 } as never));
  console.log(`wrote ${picked.length} records to ${outDir}/sample.parquet and 300 to ${outDir}/sample.fasta.gz`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildSampleData(process.argv[2] ?? 'data/mycoai-yeast-its/yeast_its_test1.fasta', process.argv[3] ?? 'workflows/data');
}
