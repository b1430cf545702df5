// Owns loading a user's plugin file (`uses: ./plugins/my-step.js`) and checking it has the shape of
// the public StepPlugin contract. Its content digest joins its version, so an edit invalidates the cache.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import { sha256 } from '../util/sha256.js';

export type LocalPluginResult = { plugin: StepPlugin } | { error: string };

export async function loadLocalPlugin(absolutePath: string): Promise<LocalPluginResult> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(absolutePath);
  } catch {
    return { error: `plugin file ${absolutePath} does not exist` };
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolutePath).href)) as Record<string, unknown>;
  } catch (error) {
    return { error: `plugin file ${absolutePath} failed to load: ${(error as Error).message}` };
  }
  const plugin = (module.default ?? module.step) as Partial<StepPlugin> | undefined;
  const missing = ['id', 'version', 'with', 'inputs', 'outputs', 'run'].filter((k) => plugin?.[k as keyof StepPlugin] === undefined);
  if (plugin === undefined || missing.length > 0) {
    return { error: `plugin file ${absolutePath} must export default defineStep({...}); missing: ${missing.join(', ') || 'the export'}` };
  }
  return { plugin: { ...(plugin as StepPlugin), version: `${plugin.version}+${sha256(bytes).slice(0, 12)}` } };
}
