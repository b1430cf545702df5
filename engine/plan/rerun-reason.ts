// Owns the reasons a step will run (or ran), and their one-line text for plans and journals.
import { describeInputFileChanges, type InputFileChanges } from './diff-input-files.js';

export type RerunReason =
  | { kind: 'no-previous-result' }
  | { kind: 'plugin-changed'; from: string; to: string }
  | { kind: 'param-changed'; name: string; from: unknown; to: unknown }
  | { kind: 'numerics-changed'; name: string; from: unknown; to: unknown }
  /** `changes`: for a glob, folder or gs:// path, the files added, removed and changed, when the previous record lists them. */
  | { kind: 'file-changed'; name: string; changes?: InputFileChanges }
  | { kind: 'input-changed'; port: string }
  | { kind: 'upstream-will-run'; step: string }
  | { kind: 'output-missing'; path: string }
  | { kind: 'output-changed'; path: string }
  | { kind: 'corrupt-entry'; detail: string }
  | { kind: 'fingerprint-layout-changed' };

function show(value: unknown): string {
  return value === undefined ? '(unset)' : JSON.stringify(value);
}

export function describeReason(reason: RerunReason): string {
  switch (reason.kind) {
    case 'no-previous-result':
      return 'no previous result';
    case 'plugin-changed':
      return `plugin version changed ${reason.from} -> ${reason.to}`;
    case 'param-changed':
      return `params.${reason.name} changed ${show(reason.from)} -> ${show(reason.to)}`;
    case 'numerics-changed':
      return `numerics ${reason.name} changed ${show(reason.from)} -> ${show(reason.to)}`;
    case 'file-changed':
      return reason.changes === undefined
        ? `input file ${reason.name} changed`
        : `input file ${reason.name} changed: ${describeInputFileChanges(reason.changes)}`;
    case 'input-changed':
      return `input ${reason.port} changed (upstream output differs)`;
    case 'upstream-will-run':
      return `upstream step ${reason.step} will run`;
    case 'output-missing':
      return `output ${reason.path} is missing`;
    case 'output-changed':
      return `output ${reason.path} was changed outside Strand`;
    case 'corrupt-entry':
      return `cache entry is corrupt (${reason.detail})`;
    case 'fingerprint-layout-changed':
      return 'cache key layout changed';
    default: {
      const unreachable: never = reason;
      throw new Error(`unknown reason ${JSON.stringify(unreachable)}`);
    }
  }
}
