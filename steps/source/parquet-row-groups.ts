// Owns reading Parquet one row group at a time from a DataFile — a local file or a gs:// object alike —
// through hyparquet's AsyncBuffer: the footer by a ranged read of the file's end, then only the column
// chunks of the requested columns of one row group per read. Memory and bytes fetched are bounded by the
// row group and the columns asked for, whatever the file size.
// hyparquet is imported where it reads, so loading the built-in steps (`strand validate`) does not load it.
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { StepError, type DataFile } from '../../engine/index.js';

/** The footer read: 64 KiB covers the metadata of files of hundreds of row groups in one request. */
const FOOTER_FETCH_BYTES = 64 * 1024;

export interface ParquetFile {
  file: DataFile;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
  /** Top-level column names and physical types. */
  columns: { name: string; type: string | undefined }[];
}

function asyncBufferOf(file: DataFile): AsyncBuffer {
  return {
    byteLength: file.size,
    slice: async (start, end) => {
      const bytes = await file.read(start, end ?? file.size);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

export async function openParquet(file: DataFile): Promise<ParquetFile> {
  const { parquetMetadataAsync, parquetSchema } = await import('hyparquet');
  const buffer = asyncBufferOf(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer, { initialFetchSize: FOOTER_FETCH_BYTES });
  } catch (error) {
    if (error instanceof StepError) throw error;
    throw new StepError(
      `${file.label} is not a readable Parquet file (${(error as Error).message})`,
      'the file may be truncated or not Parquet; re-export it',
    );
  }
  const columns = parquetSchema(metadata).children.map((c) => ({ name: c.element.name, type: c.element.type }));
  return { file, buffer, metadata, columns };
}

/** Each row group's rows (only `columns`), with the index of its first row in the file. */
export async function* readRowGroups(
  parquet: ParquetFile,
  columns: string[],
): AsyncGenerator<{ rowStart: number; rows: Record<string, unknown>[] }> {
  const { parquetReadObjects } = await import('hyparquet');
  let rowStart = 0;
  for (const group of parquet.metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    try {
      yield { rowStart, rows: await parquetReadObjects({ file: parquet.buffer, metadata: parquet.metadata, columns, rowStart, rowEnd }) };
    } catch (error) {
      if (error instanceof StepError) throw error;
      throw new StepError(
        `${parquet.file.label}: cannot read rows ${rowStart}..${rowEnd} (${(error as Error).message})`,
        'the file is corrupt or truncated',
      );
    }
    rowStart = rowEnd;
  }
}
