// Owns reading a DataFile front to back as a stream of chunks, by ranged reads, so local files and gs://
// objects stream through one path (a dropped connection costs one chunk, retried by the reader).
import type { DataFile } from '../plugin-api/step-context.js';

/** 8 MiB: few requests per object, little memory per stream. */
const CHUNK_BYTES = 8 * 2 ** 20;

export async function* streamDataFile(file: DataFile, chunkBytes = CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < file.size; start += chunkBytes) yield await file.read(start, Math.min(file.size, start + chunkBytes));
}
