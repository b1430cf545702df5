// Owns listing the files an ONNX model loads besides itself (its external data), checked against the
// disk: the edge around externalDataFiles, and the bytes a session loads (file and data). The cache key,
// validation, provenance, staging and the CPU session layout all ask here.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { externalDataFiles, type ExternalDataFile, type ExternalDataProblem } from './external-data-files.js';
import { readOnnxModel } from './read-onnx-model.js';

export type OnnxModelFiles = { files: ExternalDataFile[]; problems: ExternalDataProblem[] } | { error: string };

/** The ONNX file of a model path: itself, or `model.onnx` in a model folder (undefined when the folder has none). */
export function onnxFileOf(path: string): string | undefined {
  try {
    if (!statSync(path).isDirectory()) return path;
    const inside = join(path, 'model.onnx');
    return statSync(inside).isFile() ? inside : undefined;
  } catch {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ? undefined : path;
  }
}

/**
 * The external data files of the model at `path` (an ONNX file, or a folder's model.onnx: a folder
 * without one has none); `error` when the file cannot be decoded as ONNX.
 */
export function onnxModelFiles(path: string): OnnxModelFiles {
  const file = onnxFileOf(path);
  if (file === undefined) return { files: [], problems: [] };
  const read = readOnnxModel(file);
  if ('error' in read) return read;
  return externalDataFiles(file, read.model.externalData, (file) => {
    try {
      const stats = statSync(file);
      return stats.isFile() ? stats.size : undefined;
    } catch {
      return undefined;
    }
  });
}

/** The bytes a session loads for the model at `path`: its ONNX file and the external data it reads (0 unreadable). */
export function onnxModelBytes(path: string, files: OnnxModelFiles): number {
  const file = onnxFileOf(path);
  const own = file === undefined ? 0 : (statSync(file, { throwIfNoEntry: false })?.size ?? 0);
  return own + ('error' in files ? 0 : files.files.reduce((n, f) => n + f.needs, 0));
}
