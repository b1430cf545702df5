// Owns the listing stage of loading: every gs:// path the workflow names (inputs and outputs) listed once,
// before planning — what the cache keys are made of, and the generations steps will read — and every gs://
// input that names no object refused, located at its param. Cloud Storage reaches the stage as
// `ObjectFacts` (credentials checked when first asked), so the stage is the same against any server that
// can answer; a command that gives none (`validate`) stays offline and lists nothing.
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { CredentialProblem } from '../cloud/check-credentials.js';
import { isGcsUri, type ObjectSnapshot } from '../data/object-snapshot.js';
import { StepError } from '../plugin-api/step-error.js';
import { fail, ok, type Result } from '../util/result.js';
import { pathParams, takesScheme } from '../workflow/path-params.js';
import type { Workflow } from '../workflow/workflow.js';
import type { YamlSource } from '../workflow/yaml-source.js';

/** What the listing stage asks of Cloud Storage. */
export interface ObjectFacts {
  /** An empty snapshot to list into, once the credentials are known to work; or what is wrong with them. */
  open(): Promise<Result<ObjectSnapshot, CredentialProblem>>;
}

/** The listing (undefined when the workflow names no gs:// path), or why nothing may start. */
export async function listGcsObjects(
  workflow: Workflow,
  source: YamlSource,
  facts: ObjectFacts,
): Promise<Result<ObjectSnapshot | undefined, Diagnostic[]>> {
  // Only params that take gs:// (the path stage has refused the others already).
  const params = workflow.steps.flatMap((step) =>
    pathParams(step)
      .filter((p) => isGcsUri(p.path) && takesScheme(p, 'gs'))
      .map((p) => ({ ...p, step: step.id })),
  );
  const first = params[0];
  if (first === undefined) return ok(undefined);
  const at = (p: { step: string; key: string }) => source.locate(['steps', p.step, 'with', p.key]);
  const opened = await facts.open();
  if (!opened.ok) return fail([errorAt('gcs-credentials', at(first), `${opened.error.message}; nothing was started`, opened.error.hint)]);
  const snapshot = opened.value;
  try {
    await snapshot.refresh(params.map((p) => p.path));
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    return fail([
      errorAt(
        'gcs-listing-failed',
        at(first),
        `${error.message}; nothing was started`,
        error.hint ?? 'check the bucket name and your access to it (gcloud storage ls)',
      ),
    ]);
  }
  const missing = params.filter((p) => p.direction === 'input' && snapshot.digest(p.path) === undefined);
  if (missing.length > 0) {
    return fail(
      missing.map((p) =>
        errorAt(
          'file-not-found',
          at(p),
          `step "${p.step}": no object matches ${p.key}: ${p.path}`,
          'list the objects with `gcloud storage ls`; nothing was started',
        ),
      ),
    );
  }
  return ok(snapshot);
}
