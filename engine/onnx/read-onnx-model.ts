// Owns reading an ONNX file's structure from disk: the file edge of decodeOnnxModel. Reads by position
// (a few KiB at a time), so a model with GBs of weights inside costs its structure, not its size.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { decodeOnnxModel, type OnnxModel } from './decode-onnx-model.js';

export function readOnnxModel(path: string): { model: OnnxModel } | { error: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return { error: `cannot open it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  try {
    const size = fstatSync(fd).size;
    return decodeOnnxModel({
      size,
      read(offset, length) {
        const buffer = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, buffer, done, length - done, offset + done);
          if (n === 0) break;
          done += n;
        }
        return buffer.subarray(0, done);
      },
    });
  } finally {
    closeSync(fd);
  }
}
