// Owns loading a workflow from disk: read the file, parse it, load the local plugins it names, check it,
// and check that the input files its params name exist. The I/O edge around the pure `checkWorkflow`.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { StepPlugin } from '../index.js';
import { loadLocalPlugin } from '../plugins/load-local-plugin.js';
import { globFiles } from '../util/glob-files.js';
import { checkWorkflow } from './check-workflow.js';
import { pathParams } from './path-params.js';
import type { Workflow } from './workflow.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

export interface LoadOptions {
  builtins: readonly StepPlugin[];
  overrides?: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** Relative data paths resolve against this directory. */
  workdir: string;
}

export interface LoadResult {
  workflow?: Workflow;
  source?: YamlSource;
  diagnostics: Diagnostic[];
  /** Source texts by file name, for code frames. */
  texts: Map<string, string>;
}

export async function loadWorkflow(file: string, options: LoadOptions): Promise<LoadResult> {
  const texts = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const location = { file, line: 1, column: 1, length: 1 };
    return { diagnostics: [errorAt('file-not-found', location, `cannot read workflow file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'check the path')], texts };
  }
  texts.set(file, text);
  const parsed = parseYamlSource(file, text);
  if (parsed.source === undefined) return { diagnostics: parsed.diagnostics, texts };
  const source = parsed.source;

  const plugins = new Map<string, StepPlugin>(options.builtins.map((p) => [p.id, p]));
  const failedPlugins = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const steps = (source.value as { steps?: Record<string, { uses?: unknown }> } | null)?.steps;
  for (const [id, step] of Object.entries(steps && typeof steps === 'object' ? steps : {})) {
    const uses = step?.uses;
    if (typeof uses !== 'string' || !/^\.{1,2}\//.test(uses) || plugins.has(uses) || failedPlugins.has(uses)) continue;
    const loaded = await loadLocalPlugin(resolve(dirname(file), uses));
    if ('plugin' in loaded) plugins.set(uses, loaded.plugin);
    else {
      failedPlugins.add(uses);
      diagnostics.push(errorAt('plugin-load-failed', source.locate(['steps', id, 'uses']), loaded.error, 'a local plugin path is relative to the workflow file and exports default defineStep({...})'));
    }
  }
  const checked = checkWorkflow({ source, plugins, failedPlugins, overrides: options.overrides ?? {}, env: options.env ?? {} });
  diagnostics.push(...checked.diagnostics);
  if (checked.workflow) {
    for (const step of checked.workflow.steps) {
      for (const { key, path, direction } of pathParams(step)) {
        if (direction === 'input' && globFiles(path, options.workdir).length === 0) {
          diagnostics.push(errorAt('file-not-found', source.locate(['steps', step.id, 'with', key]), `step "${step.id}": no file matches ${key}: ${path} (relative to ${options.workdir})`, 'paths in with: are relative to the directory you run strand from'));
        }
      }
    }
  }
  diagnostics.sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
  const failed = diagnostics.some((d) => d.severity === 'error');
  return failed ? { source, diagnostics, texts } : { workflow: checked.workflow!, source, diagnostics, texts };
}
