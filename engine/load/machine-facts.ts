// Owns the facts about this machine and the model files that placement needs, read at the edge: the
// device catalog, the local cores and memory, and what each step's model file (and a config.json beside
// it) says about the model. Placement itself (engine/devices/place-workflow.ts) is pure and takes these.
import { availableParallelism, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { loadDeviceCatalog } from '../devices/device-catalog.js';
import { readModelFacts } from '../devices/onnx-model-facts.js';
import type { PlaceOptions } from '../devices/place-workflow.js';
import { isGcsUri } from '../data/object-snapshot.js';
import { pathParams } from '../workflow/path-params.js';

export function localMachineFacts(workdir: string): PlaceOptions {
  return {
    catalog: loadDeviceCatalog(),
    cpu: { cores: availableParallelism(), memoryBytes: totalmem() },
    modelFactsOf: (step) => {
      const model = pathParams(step).find((p) => p.direction === 'input' && p.format !== undefined);
      if (model === undefined) return undefined;
      // A gs:// model is read by the hosts of a remote device, not here: its facts come from model_facts:.
      if (isGcsUri(model.path))
        return {
          param: model.key,
          path: model.path,
          reading: { sources: [], layout: {}, unreadable: 'it is a gs:// object, which only the hosts read' },
        };
      return { param: model.key, path: model.path, reading: readModelFacts(resolve(workdir, model.path)) };
    },
  };
}
