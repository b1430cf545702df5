// Owns counting the records of FASTA/FASTQ files before the source runs (for `strand plan`): every record
// of inputs up to COUNT_ALL_BYTES in all, streamed as the source itself reads them; past that, the records
// in about the first COUNT_ALL_BYTES of the first file (compressed bytes for gzip) scaled by bytes, and
// said to be an estimate.
import type { DataFile, SequenceCount } from '../../engine/index.js';
import { readFastaRecords } from './fasta-records.js';

export const COUNT_ALL_BYTES = 256 * 2 ** 20;

export async function countFastaRecords(files: readonly DataFile[], countAllBytes = COUNT_ALL_BYTES): Promise<SequenceCount> {
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total <= countAllBytes) {
    let count = 0;
    for (const file of files) for await (const _record of readFastaRecords(file)) count += 1;
    return { count, how: 'counted by a scan of the FASTA records' };
  }
  // Stream the first file until a read would start past the threshold: the records parsed by then come
  // from the bytes read so far (the stream reads whole chunks, gzip or not).
  const first = files[0]!;
  let consumed = 0;
  // Set when the reader stops the scan (the sample is read): the error that ends the stream is then ours.
  const sample = { read: false };
  const watched: DataFile = {
    ...first,
    read: async (start, end) => {
      if (start >= countAllBytes) {
        sample.read = true;
        throw new Error('counted enough');
      }
      consumed = Math.min(end, first.size);
      return first.read(start, end);
    },
  };
  let count = 0;
  try {
    for await (const _record of readFastaRecords(watched)) count += 1;
  } catch (error) {
    if (!sample.read) throw error;
  }
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
  return {
    count: Math.round((count / Math.max(1, consumed)) * total),
    how: `estimated from bytes: ${count.toLocaleString('en-US')} records in the first ${mib(consumed)} MiB, scaled to ${mib(total)} MiB`,
  };
}
