// Owns deciding, before a run, which of its steps run on a remote device: the workflow is placed and
// every step that cannot run where it is placed is refused in one message, before anything starts.
import type { RemoteTarget } from '../cloud/remote-target.js';
import { resolveRemoteTargets } from '../cloud/remote-target.js';
import { placeWorkflow } from '../devices/place-workflow.js';
import type { StepPlugin } from '../index.js';
import { fail, ok, type Result } from '../util/result.js';
import { placeOptions } from '../workflow/load-workflow.js';
import type { Workflow } from '../workflow/workflow.js';

export function placeRemoteSteps(workflow: Workflow, workdir: string, builtins: readonly StepPlugin[]): Result<ReadonlyMap<string, RemoteTarget>, string> {
  const { plans } = placeWorkflow(workflow, undefined, placeOptions(workdir));
  const remote = resolveRemoteTargets(workflow, plans, builtins);
  if (remote.problems.length > 0) return fail(remote.problems.map((p) => `error: ${p}\n`).join('') + "hint: `strand plan` shows every step's placement; nothing was started");
  return ok(remote.targets);
}
