// Owns the start of a command that plans or runs a workflow naming gs:// paths: check the credentials,
// then list every gs:// input and output path once (what the cache keys are made of, and the generations
// steps will read), before any step starts. Every problem here stops the command before any work.
import { cloudSettings } from '../cloud/cloud-settings.js';
import { checkCredentials } from '../cloud/check-credentials.js';
import { GcsObjects } from '../cloud/gcs-objects.js';
import { isGcsUri, ObjectSnapshot } from '../data/object-snapshot.js';
import { StepError } from '../index.js';
import type { StrandState } from '../store/strand-state.js';
import { pathParams } from '../workflow/path-params.js';
import type { Workflow } from '../workflow/workflow.js';
import type { CliIo } from './command.js';

/** Attaches the listing to `state`; false (with the problem printed) when the command must stop. */
export async function listWorkflowObjects(workflow: Workflow, state: StrandState, io: CliIo): Promise<boolean> {
  const params = workflow.steps.flatMap((step) => pathParams(step).map((p) => ({ ...p, step: step.id }))).filter((p) => isGcsUri(p.path));
  if (params.length === 0) return true;
  const settings = cloudSettings(io.env);
  const credentials = await checkCredentials(settings);
  if (!credentials.ok) {
    io.stderr(`error: ${credentials.error.message}; nothing was started\nhint: ${credentials.error.hint}\n`);
    return false;
  }
  const snapshot = new ObjectSnapshot(new GcsObjects(settings));
  try {
    await snapshot.refresh(params.map((p) => p.path));
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    io.stderr(`error: ${error.message}; nothing was started\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
    return false;
  }
  const missing = params.filter((p) => p.direction === 'input' && snapshot.digest(p.path) === undefined);
  for (const p of missing) io.stderr(`error: step "${p.step}": no object matches ${p.key}: ${p.path}\n`);
  if (missing.length > 0) {
    io.stderr('hint: list the objects with `gcloud storage ls`; nothing was started\n');
    return false;
  }
  state.remote = snapshot;
  return true;
}
