// Owns the path stage of loading: every `with:` param that names a file is checked against the disk
// before anything runs — a URI the param does not take (`x-strand-uri` names the schemes it does), an
// output outside the project, an input that matches no file, an ONNX model whose external data is missing
// or short. The disk is reached through `PathFacts`, so the checks are the same for any file system that
// can answer them; gs:// paths a param takes are checked by the listing stage (list-gcs-objects).
import { resolve } from 'node:path';
import { errorAt, type Diagnostic, type DiagnosticCode, type SourceLocation } from '../diagnostics/diagnostic.js';
import { describeExternalDataProblem, type ExternalDataProblem } from '../onnx/external-data-files.js';
import { onnxModelFiles } from '../onnx/onnx-model-files.js';
import { isFolder } from '../devices/onnx-model-facts.js';
import { globFiles } from '../util/glob-files.js';
import { isInside } from '../util/is-inside.js';
import { pathParams, takesScheme, uriScheme } from '../workflow/path-params.js';
import type { Workflow } from '../workflow/workflow.js';
import type { YamlSource } from '../workflow/yaml-source.js';

/** What the path checks ask of the file system, for paths relative to the workdir. */
export interface PathFacts {
  workdir: string;
  /** Whether a file or glob names at least one existing file. */
  exists(path: string): boolean;
  /** Whether the path is a folder (a model param may name a Hugging Face model folder). */
  isFolder(path: string): boolean;
  /** Problems with an ONNX model's external data files (none for a model that cannot be decoded: its step says why). */
  externalDataProblems(path: string): ExternalDataProblem[];
}

export function localPathFacts(workdir: string): PathFacts {
  return {
    workdir,
    exists: (path) => globFiles(path, workdir).length > 0,
    isFolder: (path) => isFolder(resolve(workdir, path)),
    externalDataProblems: (path) => {
      const listed = onnxModelFiles(resolve(workdir, path));
      return 'error' in listed ? [] : listed.problems;
    },
  };
}

const EXTERNAL_DATA_CODE: Record<ExternalDataProblem['kind'], DiagnosticCode> = {
  missing: 'external-data-missing',
  escapes: 'external-data-escapes',
  short: 'external-data-truncated',
};

/** `allowPaths`: folders outside the workdir that outputs may be written to (`allow_paths:`). */
export function checkPathParams(workflow: Workflow, source: YamlSource, facts: PathFacts, allowPaths: readonly string[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const allowed = [facts.workdir, ...allowPaths.map((p) => resolve(facts.workdir, p))];
  for (const step of workflow.steps) {
    for (const param of pathParams(step)) {
      const { key, path, direction, format, schemes } = param;
      // Located only for a diagnostic: a valid file then never builds the positioned YAML document.
      const at = (): SourceLocation => source.locate(['steps', step.id, 'with', key]);
      const scheme = uriScheme(path);
      if (scheme !== undefined) {
        // A URI the param takes (`x-strand-uri`, `x-strand-uri-remote`) is checked by listing it (list-gcs-objects), not here.
        if (!takesScheme(param, scheme)) {
          const takes = schemes.length === 0 ? 'local paths only' : `local paths and ${schemes.map((s) => `${s}://`).join(', ')} URIs`;
          diagnostics.push(
            errorAt(
              'unsupported-uri',
              at(),
              `step "${step.id}": ${key}: ${path} is a ${scheme}:// URI; ${step.uses} ${key} takes ${takes}`,
              scheme === 'gs'
                ? 'copy the objects to a local folder (gcloud storage cp -r ...) and give its path'
                : 'give a local path, or copy the data to Cloud Storage (gs://)',
            ),
          );
        }
        continue;
      }
      if (direction === 'output' && !allowed.some((dir) => isInside(resolve(facts.workdir, path), dir))) {
        diagnostics.push(
          errorAt(
            'path-escapes-workspace',
            at(),
            `step "${step.id}" would write ${path}, outside the project (${facts.workdir})`,
            'write under the project, or list the folder under allow_paths: if you mean it',
          ),
        );
      }
      if (direction !== 'input') continue;
      if (!facts.exists(path) && !(format === 'model' && facts.isFolder(path))) {
        diagnostics.push(
          errorAt(
            'file-not-found',
            at(),
            `step "${step.id}": no file matches ${key}: ${path} (relative to ${facts.workdir})`,
            'paths in with: are relative to the directory you run strand from',
          ),
        );
      } else if (format !== undefined) {
        for (const problem of facts.externalDataProblems(path)) {
          const { message, hint } = describeExternalDataProblem(path, problem);
          diagnostics.push(errorAt(EXTERNAL_DATA_CODE[problem.kind], at(), `step "${step.id}": ${message}`, hint));
        }
      }
    }
  }
  return diagnostics;
}
