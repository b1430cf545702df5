// Owns turning a model's external-data references into the files it loads, and what is wrong with them:
// a location that leaves the model's folder (onnxruntime refuses it, and a cache key must not follow it),
// a file that is missing, or one shorter than the tensors it holds (a partial download). Pure: file sizes
// arrive through `sizeOf`.
import { isAbsolute, resolve, dirname } from 'node:path';
import { isInside } from '../util/is-inside.js';
import type { ExternalDataRef } from './decode-onnx-model.js';

export interface ExternalDataFile {
  /** As the model names it, relative to the model's folder. */
  location: string;
  path: string;
  /** Bytes the model reads from it: the end of its last tensor. */
  needs: number;
}

export type ExternalDataProblem =
  | { kind: 'escapes'; location: string; tensor: string }
  | { kind: 'missing'; location: string; path: string; tensor: string }
  | { kind: 'short'; location: string; path: string; size: number; needs: number; tensor: string };

export function externalDataFiles(
  modelPath: string,
  refs: readonly ExternalDataRef[],
  sizeOf: (path: string) => number | undefined,
): { files: ExternalDataFile[]; problems: ExternalDataProblem[] } {
  const folder = dirname(modelPath);
  const byLocation = new Map<string, { needs: number; tensor: string; last: string }>();
  const problems: ExternalDataProblem[] = [];
  const escaping = new Set<string>();
  for (const ref of refs) {
    const normalised = ref.location.replaceAll('\\', '/');
    if (
      ref.location === '' ||
      isAbsolute(normalised) ||
      /^[A-Za-z]:/.test(normalised) ||
      !isInside(resolve(folder, normalised), folder) ||
      resolve(folder, normalised) === folder
    ) {
      if (!escaping.has(ref.location)) problems.push({ kind: 'escapes', location: ref.location, tensor: ref.tensor });
      escaping.add(ref.location);
      continue;
    }
    const end = ref.offset + (ref.length ?? 0);
    const known = byLocation.get(normalised);
    if (known === undefined) byLocation.set(normalised, { needs: end, tensor: ref.tensor, last: ref.tensor });
    else if (end > known.needs) byLocation.set(normalised, { ...known, needs: end, last: ref.tensor });
  }
  const files: ExternalDataFile[] = [];
  for (const [location, { needs, tensor, last }] of [...byLocation].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const path = resolve(folder, location);
    const size = sizeOf(path);
    if (size === undefined) problems.push({ kind: 'missing', location, path, tensor });
    else if (size < needs) problems.push({ kind: 'short', location, path, size, needs, tensor: last });
    else files.push({ location, path, needs });
  }
  return { files, problems };
}

/** One line per problem, naming the tensor and the file, for diagnostics and step errors. */
export function describeExternalDataProblem(model: string, problem: ExternalDataProblem): { message: string; hint: string } {
  switch (problem.kind) {
    case 'escapes':
      return {
        message: `${model} keeps tensor ${problem.tensor} in external data at "${problem.location}", which is not a file inside the model's folder`,
        hint: 're-export with the data file beside the model (onnx.save_model(..., save_as_external_data=True, location="model.onnx_data"))',
      };
    case 'missing':
      return {
        message: `${model} keeps tensor ${problem.tensor} in external data file ${problem.location}, which does not exist (${problem.path})`,
        hint: `copy ${problem.location} beside the model; an export over 2 GB is model.onnx plus its data file(s), and both are needed`,
      };
    case 'short':
      return {
        message: `${model} reads external data file ${problem.location} up to byte ${problem.needs} (tensor ${problem.tensor}), but it has ${problem.size} bytes`,
        hint: `${problem.location} is truncated or from another export: copy it again with the model`,
      };
    default: {
      const unreachable: never = problem;
      throw new Error(`unknown external data problem ${JSON.stringify(unreachable)}`);
    }
  }
}
