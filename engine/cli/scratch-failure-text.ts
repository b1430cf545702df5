// Owns the text a CLI verb prints when the steps it ran for the user (a ScratchFailure) stopped:
// `error:` and `hint:` lines, without the generated workflow's positions, which mean nothing to the user.
import type { ScratchFailure } from '../run/run-scratch-workflow.js';

const lines = (severity: string, message: string, hint: string | undefined): string =>
  `${severity}: ${message}\n${hint !== undefined ? `hint: ${hint}\n` : ''}`;

export function scratchFailureText(failure: ScratchFailure): string {
  switch (failure.kind) {
    case 'invalid-workflow':
      return failure.diagnostics.map((d) => lines(d.severity, d.message, d.hint)).join('');
    case 'step-failed':
      return lines('error', failure.message, failure.hint);
    default: {
      const unreachable: never = failure;
      throw new Error(`unknown failure ${JSON.stringify(unreachable)}`);
    }
  }
}
