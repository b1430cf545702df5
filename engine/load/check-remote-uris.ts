// Owns the check, once placement has decided which steps run on a remote device, that a path param which
// takes a URI only there (`x-strand-uri-remote`: a model the hosts of a TPU slice read from their bucket)
// does not name one for a step that runs on this machine. Pure.
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import { pathParams, uriScheme } from '../workflow/path-params.js';
import type { Workflow } from '../workflow/workflow.js';
import type { YamlSource } from '../workflow/yaml-source.js';

export function checkRemoteUris(workflow: Workflow, source: YamlSource, remoteSteps: ReadonlySet<string>): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const step of workflow.steps) {
    if (remoteSteps.has(step.id)) continue;
    for (const param of pathParams(step)) {
      const scheme = uriScheme(param.path);
      if (scheme === undefined || param.schemes.includes(scheme) || !param.remoteSchemes.includes(scheme)) continue;
      diagnostics.push(
        errorAt(
          'uri-needs-remote-device',
          source.locate(['steps', step.id, 'with', param.key]),
          `step "${step.id}": ${param.key}: ${param.path} is read by the hosts of a remote device, and this step runs on this machine`,
          `place the step on: a TPU device, or copy the ${scheme}:// objects here (gcloud storage cp -r ...) and give their local path`,
        ),
      );
    }
  }
  return diagnostics;
}
