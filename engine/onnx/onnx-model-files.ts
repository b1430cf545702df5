// Owns listing the files an ONNX model loads besides itself (its external data), checked against the
// disk: the edge around externalDataFiles. The cache key, validation, provenance and staging all ask here.
import { statSync } from 'node:fs';
import { externalDataFiles, type ExternalDataFile, type ExternalDataProblem } from './external-data-files.js';
import { readOnnxModel } from './read-onnx-model.js';

export type OnnxModelFiles = { files: ExternalDataFile[]; problems: ExternalDataProblem[] } | { error: string };

/** The external data files of the model at `path`; `error` when the file cannot be decoded as ONNX. */
export function onnxModelFiles(path: string): OnnxModelFiles {
  const read = readOnnxModel(path);
  if ('error' in read) return read;
  return externalDataFiles(path, read.model.externalData, (file) => {
    try {
      const stats = statSync(file);
      return stats.isFile() ? stats.size : undefined;
    } catch {
      return undefined;
    }
  });
}
