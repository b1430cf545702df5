// Owns why a store object cannot be read — it is missing, or its bytes do not match its digest — as a
// value that `plan`, `run` and `cache verify` all look at, and its one-line text.
import type { Sha256Hex } from '../util/sha256.js';

export type ObjectProblem = { kind: 'object-missing'; digest: Sha256Hex } | { kind: 'object-corrupt'; digest: Sha256Hex };

export function describeObjectProblem(problem: ObjectProblem): string {
  const name = `store object ${problem.digest.slice(0, 12)}`;
  switch (problem.kind) {
    case 'object-missing':
      return `${name} is missing`;
    case 'object-corrupt':
      return `${name} is corrupt (its content does not match its digest)`;
    default: {
      const unreachable: never = problem;
      throw new Error(`unknown object problem ${JSON.stringify(unreachable)}`);
    }
  }
}
