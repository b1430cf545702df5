// Owns reading what an ONNX file and its folder say about the model, without loading it into a runtime:
// parameters from the initializers, `strand.*` metadata, a Hugging Face config.json beside the model, and
// the shape the graph shows. The file edge of model-facts.ts and graph-model-facts.ts; which source wins
// is decided by mergeModelFacts.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readOnnxModel } from '../onnx/read-onnx-model.js';
import { factsFromGraph, parametersOf } from './graph-model-facts.js';
import { factsFromConfig, factsFromMetadata, type FactSource, type FactValues } from './model-facts.js';

export interface ModelFactsReading {
  /** In the order they win (metadata, config.json, initializers, graph). */
  sources: { from: FactSource; values: FactValues }[];
  /** Why the ONNX file itself could not be read (the step reports it too, when it loads the model). */
  unreadable?: string;
  /** A config.json beside the model that is not JSON: its facts were not used. */
  configError?: { path: string; message: string };
}

export function readModelFacts(path: string): ModelFactsReading {
  const reading: ModelFactsReading = { sources: [] };
  const read = readOnnxModel(path);
  const configPath = join(dirname(path), 'config.json');
  let config: FactValues = {};
  try {
    config = factsFromConfig(JSON.parse(readFileSync(configPath, 'utf8')));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') reading.configError = { path: configPath, message: (error as Error).message.split('\n')[0]! };
  }
  if ('error' in read) {
    reading.unreadable = read.error;
    reading.sources.push({ from: 'config.json', values: config });
    return reading;
  }
  reading.sources.push(
    { from: 'metadata', values: factsFromMetadata(read.model.metadata) },
    { from: 'config.json', values: config },
    { from: 'initializers', values: { parameters: parametersOf(read.model) } },
    { from: 'graph', values: factsFromGraph(read.model) },
  );
  return reading;
}
