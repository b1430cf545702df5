// Owns refusing, before a run starts, the steps that loading placed where this version cannot run them
// (all of them in one message, before anything starts); otherwise the remote steps to run.
import type { RemoteTarget } from '../cloud/remote-target.js';
import type { CheckedWorkflow } from '../load/load-workflow.js';
import { fail, ok, type Result } from '../util/result.js';

export function runnableRemoteTargets(remote: CheckedWorkflow['remote']): Result<ReadonlyMap<string, RemoteTarget>, string> {
  if (remote.problems.length > 0)
    return fail(
      remote.problems.map((p) => `error: ${p.message}\n`).join('') +
        "hint: `strand plan` shows every step's placement; nothing was started",
    );
  return ok(remote.targets);
}
