// Owns which files of a model folder (a Hugging Face folder a JAX step names) are staged for remote hosts:
// config.json and the one weights file the runtime loads (model.safetensors, else pytorch_model.bin), as
// runtime/jax's checkpoint.py chooses. Tokenizer files, READMEs and a second copy of the weights stay home:
// for NT-2.5B each weights file is 5-10 GB. The same choice for a folder on disk and one on Cloud Storage.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

/** File names to stage from a folder that has the names `has` says, or why it cannot be. Pure. */
export function chooseModelFolderFiles(folder: string, has: (name: string) => boolean): { names: string[] } | { error: string } {
  const weights = WEIGHT_FILES.find(has);
  if (!has('config.json') || weights === undefined)
    return { error: `${folder} is a folder without config.json and ${WEIGHT_FILES.join(' or ')}` };
  return { names: ['config.json', weights] };
}

/** chooseModelFolderFiles for a folder on disk. */
export function modelFolderFiles(folder: string): { names: string[] } | { error: string } {
  return chooseModelFolderFiles(folder, (name) => existsSync(join(folder, name)));
}
