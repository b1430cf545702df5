// Owns the plugin stage of loading: the built-in steps plus every local plugin file (`uses: ./x.js`)
// the workflow names, imported once each; one that fails to load is reported at its `uses:` line.
import { dirname, resolve } from 'node:path';
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import { loadLocalPlugin } from '../plugins/load-local-plugin.js';
import { isRecipeRef } from '../recipes/recipe.js';
import type { YamlSource } from '../workflow/yaml-source.js';

export interface LoadedPlugins {
  plugins: Map<string, StepPlugin>;
  /** `uses:` values that were reported already (a local plugin that failed, a recipe that did not expand). */
  failed: Set<string>;
  diagnostics: Diagnostic[];
}

export async function loadLocalPlugins(file: string, source: YamlSource, builtins: readonly StepPlugin[]): Promise<LoadedPlugins> {
  const loaded: LoadedPlugins = { plugins: new Map(builtins.map((p) => [p.id, p])), failed: new Set(), diagnostics: [] };
  const steps = (source.value as { steps?: Record<string, { uses?: unknown } | null> } | null)?.steps;
  const byId = steps && typeof steps === 'object' ? steps : {};
  for (const id of Object.keys(byId)) {
    const uses = byId[id]?.uses;
    if (typeof uses !== 'string') continue;
    // An expanded recipe is gone from the steps: one still here failed to load, and was reported.
    if (isRecipeRef(uses)) loaded.failed.add(uses);
    const local = uses.startsWith('./') || uses.startsWith('../');
    if (!local || loaded.plugins.has(uses) || loaded.failed.has(uses)) continue;
    const result = await loadLocalPlugin(resolve(dirname(file), uses));
    if ('plugin' in result) loaded.plugins.set(uses, result.plugin);
    else {
      loaded.failed.add(uses);
      loaded.diagnostics.push(
        errorAt(
          'plugin-load-failed',
          source.locate(['steps', id, 'uses']),
          result.error,
          'a local plugin path is relative to the workflow file and exports default defineStep({...})',
        ),
      );
    }
  }
  return loaded;
}
