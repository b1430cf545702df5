// Owns reading what a model path says about the model, without loading it into a runtime: for an ONNX
// file, parameters from the initializers, `strand.*` metadata, a Hugging Face config.json beside it, and
// the shape the graph shows; for a model folder, its config.json, the safetensors header and its
// model.onnx, if any. Also which files each runtime would load (the folder's layout). The file edge of
// model-facts.ts and graph-model-facts.ts; which source wins is decided by mergeModelFacts.
import { WEIGHT_FILES } from '../cloud/model-folder-files.js';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { onnxFileOf } from '../onnx/onnx-model-files.js';
import { readOnnxModel } from '../onnx/read-onnx-model.js';
import { factsFromGraph, parametersOf } from './graph-model-facts.js';
import { factsFromConfig, factsFromMetadata, type FactSource, type FactValues } from './model-facts.js';
import { safetensorsParameters } from './safetensors-parameters.js';

/** The files a runtime would load from a model path. */
export interface ModelLayout {
  /** The ONNX file onnxruntime loads: the path itself, or model.onnx in a folder. */
  onnx?: string;
  /** A folder: what JAX needs from it (config.json and one weights file). */
  folder?: { config: boolean; weights?: (typeof WEIGHT_FILES)[number] };
}

export interface ModelFactsReading {
  /** In the order they win (metadata, config.json, initializers, graph). */
  sources: { from: FactSource; values: FactValues }[];
  /** Why the ONNX file itself could not be read (the step reports it too, when it loads the model). */
  unreadable?: string;
  /** A config.json beside the model that is not JSON: its facts were not used. */
  configError?: { path: string; message: string };
  layout: ModelLayout;
}

export function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}

/** The config.json that describes a model path: inside a folder, beside a file. */
export function configPathOf(path: string): string {
  return isFolder(path) ? join(path, 'config.json') : join(dirname(path), 'config.json');
}

export function readModelFacts(path: string): ModelFactsReading {
  const folder = isFolder(path);
  const onnx = onnxFileOf(path);
  const weights = folder ? WEIGHT_FILES.find((name) => isFile(join(path, name))) : undefined;
  const layout: ModelLayout = {
    ...(onnx !== undefined ? { onnx } : {}),
    ...(folder ? { folder: { config: isFile(join(path, 'config.json')), ...(weights ? { weights } : {}) } } : {}),
  };
  const reading: ModelFactsReading = { sources: [], layout };
  const configPath = configPathOf(path);
  let config: FactValues = {};
  try {
    config = factsFromConfig(JSON.parse(readFileSync(configPath, 'utf8')));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      reading.configError = { path: configPath, message: (error as Error).message.split('\n')[0]! };
  }
  const weightCount = weights === 'model.safetensors' ? safetensorsParameters(join(path, weights)) : undefined;
  const counted = weightCount === undefined ? [] : [{ from: 'weights' as const, values: { parameters: weightCount } }];
  if (onnx === undefined) {
    reading.sources.push({ from: 'config.json', values: config }, ...counted);
    return reading;
  }
  const read = readOnnxModel(onnx);
  if ('error' in read) {
    reading.unreadable = read.error;
    reading.sources.push({ from: 'config.json', values: config }, ...counted);
    return reading;
  }
  reading.sources.push(
    { from: 'metadata', values: factsFromMetadata(read.model.metadata) },
    { from: 'config.json', values: config },
    ...counted,
    { from: 'initializers', values: { parameters: parametersOf(read.model) } },
    { from: 'graph', values: factsFromGraph(read.model) },
  );
  return reading;
}
