// Owns the facts about this machine and the model files that placement needs, read at the edge: the
// device catalog, the local cores and memory, and what each step's model file (and a config.json beside
// it) says about the model. Placement itself (engine/devices/place-workflow.ts) is pure and takes these.
import { availableParallelism, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { loadDeviceCatalog } from '../devices/device-catalog.js';
import { WEIGHT_FILES } from '../cloud/model-folder-files.js';
import { readModelFacts, type ModelLayout } from '../devices/onnx-model-facts.js';
import type { PlaceOptions } from '../devices/place-workflow.js';
import { isGcsUri, type ObjectSnapshot } from '../data/object-snapshot.js';
import { pathParams } from '../workflow/path-params.js';

/** `listing`: the gs:// paths as loading listed them, for the layout of a gs:// model folder. */
export function localMachineFacts(workdir: string, listing?: ObjectSnapshot): PlaceOptions {
  return {
    catalog: loadDeviceCatalog(),
    cpu: { cores: availableParallelism(), memoryBytes: totalmem() },
    modelFactsOf: (step) => {
      const model = pathParams(step).find((p) => p.direction === 'input' && p.format !== undefined);
      if (model === undefined) return undefined;
      // A gs:// model is read by the hosts of a remote device, not here: its facts come from model_facts:,
      // its layout from the objects the listing found under it.
      if (isGcsUri(model.path))
        return {
          param: model.key,
          path: model.path,
          reading: {
            sources: [],
            layout: gcsModelLayout(model.path, listing),
            unreadable: 'it is a gs:// object, which only the hosts read',
          },
        };
      return { param: model.key, path: model.path, reading: readModelFacts(resolve(workdir, model.path)) };
    },
  };
}

/** What a gs:// model path holds, by the names of the objects listed under it. */
function gcsModelLayout(path: string, listing: ObjectSnapshot | undefined): ModelLayout {
  if (path.endsWith('.onnx')) return { onnx: path };
  const folder = path.replace(/\/+$/, '');
  const names = new Set((listing?.versions(path) ?? []).map((v) => `gs://${v.bucket}/${v.name}`));
  const has = (file: string): boolean => names.has(`${folder}/${file}`);
  const weights = WEIGHT_FILES.find(has);
  return {
    ...(has('model.onnx') ? { onnx: `${folder}/model.onnx` } : {}),
    folder: { config: has('config.json'), ...(weights !== undefined ? { weights } : {}) },
  };
}
