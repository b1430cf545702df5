// Owns which files of a model folder (a Hugging Face folder a JAX step names) are staged for remote hosts:
// config.json and the one weights file the runtime loads (model.safetensors, else pytorch_model.bin), as
// runtime/jax's checkpoint.py chooses. Tokenizer files, READMEs and a second copy of the weights stay home:
// for NT-2.5B each weights file is 5-10 GB.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

/** File names to stage, or why the folder cannot be. */
export function modelFolderFiles(folder: string): { names: string[] } | { error: string } {
  const weights = WEIGHT_FILES.find((name) => existsSync(join(folder, name)));
  if (!existsSync(join(folder, 'config.json')) || weights === undefined) return { error: `${folder} is a folder without config.json and ${WEIGHT_FILES.join(' or ')}` };
  return { names: ['config.json', weights] };
}
