// Owns counting the records of FASTA/FASTQ files before the source runs (for `strand plan`): every record
// of inputs up to COUNT_ALL_BYTES in all, streamed as the source itself reads them; past that, the records
// of the first COUNT_ALL_BYTES of the first file scaled by bytes, and said to be an estimate.
import type { DataFile, SequenceCount } from '../../engine/index.js';
import { readFastaRecords } from './fasta-records.js';

export const COUNT_ALL_BYTES = 256 * 2 ** 20;

export async function countFastaRecords(files: readonly DataFile[]): Promise<SequenceCount> {
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total <= COUNT_ALL_BYTES) {
    let count = 0;
    for (const file of files) for await (const _record of readFastaRecords(file)) count += 1;
    return { count, how: 'counted by a scan of the FASTA records' };
  }
  const first = files[0]!;
  let fetched = 0;
  const watched: DataFile = { ...first, read: async (start, end) => ((fetched = Math.max(fetched, end)), first.read(start, end)) };
  let count = 0;
  for await (const _record of readFastaRecords(watched)) {
    count += 1;
    if (fetched >= COUNT_ALL_BYTES) break;
  }
  return { count: Math.round((count / Math.max(1, Math.min(fetched, first.size))) * total), how: `estimated from bytes: ${count.toLocaleString('en-US')} records in the first ${(Math.min(fetched, first.size) / 2 ** 20).toFixed(0)} MiB, scaled to ${(total / 2 ** 20).toFixed(0)} MiB` };
}
