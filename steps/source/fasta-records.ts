// Owns streaming records out of FASTA and FASTQ files — a local path, or a DataFile (a local file or a
// gs:// object, streamed by ranged reads) — plain or gzip (detected by magic bytes), with errors that name
// the file and line of a malformed record. Reads line by line: memory stays bounded. A leading UTF-8
// byte-order mark is read through.
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { quoteText, StepError, streamDataFile, withoutByteOrderMark, type DataFile } from '../../engine/index.js';

export interface FastaRecord {
  header: string;
  sequence: string;
  line: number;
}

async function firstBytes(input: string | DataFile): Promise<Uint8Array> {
  if (typeof input !== 'string') return input.read(0, 2);
  const fd = openSync(input, 'r');
  try {
    const magic = Buffer.alloc(2);
    return magic.subarray(0, readSync(fd, magic, 0, 2, 0));
  } finally {
    closeSync(fd);
  }
}

/** Records of a local file (`input` a path) or of a DataFile (its own label names it). */
export async function* readFastaRecords(
  input: string | DataFile,
  label = typeof input === 'string' ? input : input.label,
): AsyncGenerator<FastaRecord> {
  const magic = await firstBytes(input);
  const raw = typeof input === 'string' ? createReadStream(input) : Readable.from(streamDataFile(input));
  const stream = magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  const failure: { error?: Error } = {};
  stream.on('error', (error: Error) => (failure.error = error));
  raw.on('error', (error: Error) => (failure.error = error));
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let header: string | undefined;
  let headerLine = 0;
  let parts: string[] = [];
  let format: 'fasta' | 'fastq' | undefined;
  let fastqState = 0;
  try {
    for await (const read of lines) {
      lineNo++;
      // A byte-order mark (files saved by Windows editors) is not part of the first line.
      const line = lineNo === 1 ? withoutByteOrderMark(read) : read;
      if (format === undefined) {
        if (line.trim() === '') continue;
        if (line.startsWith('>')) format = 'fasta';
        else if (line.startsWith('@')) format = 'fastq';
        else
          throw new StepError(
            `${label}:${lineNo}: not a FASTA or FASTQ file (the first line starts with ${quoteText(line.slice(0, 10))})`,
            'FASTA records start with ">", FASTQ records with "@"',
          );
      }
      if (format === 'fasta') {
        if (line.startsWith('>')) {
          if (header !== undefined) yield { header, sequence: parts.join(''), line: headerLine };
          header = line.slice(1).trim();
          headerLine = lineNo;
          parts = [];
        } else if (line.trim() !== '') {
          if (header === undefined)
            throw new StepError(`${label}:${lineNo}: sequence before any header`, 'start each record with a ">" header line');
          parts.push(line.trim());
        }
      } else {
        if (fastqState === 0) {
          if (line.trim() === '') continue;
          if (!line.startsWith('@'))
            throw new StepError(
              `${label}:${lineNo}: expected a FASTQ header starting with "@"`,
              'each FASTQ record is 4 lines: @header, sequence, +, qualities',
            );
          header = line.slice(1).trim();
          headerLine = lineNo;
        } else if (fastqState === 1) parts = [line.trim()];
        else if (fastqState === 2 && !line.startsWith('+'))
          throw new StepError(
            `${label}:${lineNo}: expected the FASTQ "+" separator line`,
            'each FASTQ record is 4 lines: @header, sequence, +, qualities',
          );
        else if (fastqState === 3) {
          if (line.trim().length !== parts[0]!.length)
            throw new StepError(
              `${label}:${lineNo}: quality line length differs from the sequence length`,
              'the file may be truncated or corrupt',
            );
          yield { header: header!, sequence: parts[0]!, line: headerLine };
          header = undefined;
        }
        fastqState = (fastqState + 1) % 4;
      }
    }
  } catch (error) {
    if (error instanceof StepError) throw error;
    failure.error = error as Error;
  }
  // A gs:// object that changed or came back short says so itself, by name.
  if (failure.error instanceof StepError) throw failure.error;
  if (failure.error) {
    throw new StepError(
      `${label}: cannot read (${failure.error.message}) after line ${lineNo}`,
      'the file is truncated or corrupt: re-export or re-download it',
    );
  }
  if (format === 'fastq' && fastqState !== 0)
    throw new StepError(`${label}:${lineNo}: the last FASTQ record is incomplete`, 'the file is truncated');
  if (format === 'fasta' && header !== undefined) yield { header, sequence: parts.join(''), line: headerLine };
}
