// Owns what every source step shares: applying the sequence hygiene, empty and duplicate-id policies
// to a stream of records, and writing them as `sequences` shards of `shard_rows` records (id, sequence,
// metadata columns) with bounded memory; resumed shards are not rewritten.
import { StepError, type DataFile, type StepContext, type StepSummary, arrow } from '../../engine/index.js';
import { numberColumn, textColumn } from '../arrow-columns.js';
import { cleanSequence, type InvalidPolicy } from './sequence-hygiene.js';

export interface SourceRecord {
  id: string;
  sequence: string;
  metadata: Record<string, string | number | null>;
  /** Where the record is, for error messages: `file.fasta record 12`. */
  where: string;
}

export interface MetadataColumn {
  name: string;
  kind: 'text' | 'number';
}

export interface HygieneParams {
  invalid: InvalidPolicy;
  empty: 'skip' | 'error';
  duplicates: 'error' | 'skip';
  shard_rows: number;
}

/** `with:` properties every source step accepts (folded into each source's schema). */
export const HYGIENE_SCHEMA = {
  invalid: { enum: ['error', 'skip', 'to-n'], default: 'error', description: 'a letter that is not a nucleotide or IUPAC code' },
  empty: { enum: ['skip', 'error'], default: 'skip', description: 'a record whose sequence is empty after cleaning' },
  duplicates: { enum: ['error', 'skip'], default: 'error', description: 'a record whose id was seen before (skip keeps the first)' },
  shard_rows: { type: 'integer', minimum: 1, default: 10000, description: 'records per shard (the unit of resume)' },
} as const;

/** A source's `path` param: local files or a glob, or gs:// objects (`x-strand-uri`), read as inputs. */
export function sourcePathSchema(description: string) {
  return { type: 'string', 'x-strand-path': 'input', 'x-strand-uri': ['gs'], description } as const;
}

/** The files a source's `path` (a file, a glob or a gs:// prefix glob) names; none is the user's error. */
export async function sourceFiles<P extends object>(ctx: StepContext<P>, path: string): Promise<[DataFile, ...DataFile[]]> {
  const [first, ...rest] = await ctx.data.inputFiles(path);
  if (first === undefined) throw new StepError(`no file matches ${path}`, 'check the path (relative to where you run strand)');
  return [first, ...rest];
}

export async function writeSequenceShards<P extends object>(
  ctx: StepContext<P>,
  records: AsyncIterable<SourceRecord>,
  columns: readonly MetadataColumn[],
  params: HygieneParams,
  meta: Record<string, unknown>,
): Promise<StepSummary> {
  const output = ctx.output('sequences');
  const seen = new Set<string>();
  const counts = {
    records: 0,
    written: 0,
    changed: 0,
    skipped_invalid: 0,
    skipped_empty: 0,
    skipped_duplicate: 0,
    shards: 0,
    resumed_shards: 0,
  };
  let batch: SourceRecord[] = [];
  const flush = async (): Promise<void> => {
    const rows = batch;
    batch = [];
    const outcome = await output.shard(counts.shards, async () => {
      const data: Record<string, ReturnType<typeof textColumn>> = {
        id: textColumn(rows.map((r) => r.id)),
        sequence: textColumn(rows.map((r) => r.sequence)),
      };
      for (const column of columns) {
        const values = rows.map((r) => r.metadata[column.name] ?? null);
        data[column.name] =
          column.kind === 'number'
            ? numberColumn(values as (number | null)[])
            : textColumn(values.map((v) => (v === null ? null : String(v))));
      }
      return new arrow.Table(data);
    });
    counts.shards++;
    if (outcome === 'resumed') counts.resumed_shards++;
    ctx.progress({ done: counts.written, unit: 'sequences' });
  };
  for await (const record of records) {
    counts.records++;
    const cleaned = cleanSequence(record.sequence, params.invalid);
    if (!cleaned.ok) {
      if (params.invalid === 'skip') {
        counts.skipped_invalid++;
        continue;
      }
      throw new StepError(
        `${record.where} (id ${record.id}): ${cleaned.reason}`,
        'clean the input, or set invalid: skip (drop such records) or invalid: to-n (replace with N)',
      );
    }
    if (cleaned.sequence.length === 0) {
      if (params.empty === 'error')
        throw new StepError(`${record.where} (id ${record.id}): the sequence is empty`, 'remove the record, or set empty: skip');
      counts.skipped_empty++;
      continue;
    }
    if (seen.has(record.id)) {
      if (params.duplicates === 'error')
        throw new StepError(
          `${record.where}: id ${record.id} appears more than once`,
          'make ids unique, or set duplicates: skip to keep the first',
        );
      counts.skipped_duplicate++;
      continue;
    }
    seen.add(record.id);
    if (cleaned.changed) counts.changed++;
    batch.push({ ...record, sequence: cleaned.sequence });
    counts.written++;
    if (batch.length >= params.shard_rows) await flush();
    if (ctx.signal.aborted) return counts;
  }
  if (batch.length > 0) await flush();
  if (counts.written === 0)
    throw new StepError(
      `no sequences to write: the input has ${counts.records} records and all were skipped or it is empty`,
      'check the input file and the hygiene policies',
    );
  ctx.output('sequences').setMeta({ ...meta, columns: ['id', 'sequence', ...columns.map((c) => c.name)] });
  return counts;
}
