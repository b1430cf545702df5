// Owns explaining a cache miss as field differences between the previous fingerprint of a step and
// the current one (for a glob, folder or gs:// path, down to the files that changed).
import { canonicalJson } from '../util/canonical-json.js';
import { diffInputFiles, hasInputFileChanges, type InputFileLists } from './diff-input-files.js';
import type { Fingerprint } from './fingerprint.js';
import type { RerunReason } from './rerun-reason.js';

function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null));
}

/**
 * `listed`: the file lists of the previous result's record (absent from records written by an older
 * Strand, or once the record is gone) and of now; with both, a changed path names its files.
 */
export function explainMiss(
  previous: Fingerprint | undefined,
  current: Fingerprint,
  listed: { previous?: InputFileLists | undefined; current?: InputFileLists | undefined } = {},
): RerunReason[] {
  if (previous === undefined) return [{ kind: 'no-previous-result' }];
  // Read from the store: a record written by an older Strand can carry another layout than the type says.
  const previousSchema: number = previous.schema;
  if (previousSchema !== current.schema) return [{ kind: 'fingerprint-layout-changed' }];
  const reasons: RerunReason[] = [];
  if (previous.plugin !== current.plugin || previous.pluginVersion !== current.pluginVersion) {
    reasons.push({
      kind: 'plugin-changed',
      from: `${previous.plugin}@${previous.pluginVersion}`,
      to: `${current.plugin}@${current.pluginVersion}`,
    });
  }
  for (const name of changedKeys(previous.params, current.params)) {
    reasons.push({ kind: 'param-changed', name, from: previous.params[name], to: current.params[name] });
  }
  for (const name of changedKeys(previous.numerics, current.numerics)) {
    reasons.push({ kind: 'numerics-changed', name, from: previous.numerics[name], to: current.numerics[name] });
  }
  for (const name of changedKeys(previous.files, current.files)) {
    const before = listed.previous?.[name];
    const now = listed.current?.[name];
    const changes = before === undefined || now === undefined ? undefined : diffInputFiles(before, now);
    reasons.push(
      changes !== undefined && hasInputFileChanges(changes) ? { kind: 'file-changed', name, changes } : { kind: 'file-changed', name },
    );
  }
  for (const port of changedKeys(previous.inputs, current.inputs)) reasons.push({ kind: 'input-changed', port });
  // Same fields, different key: the previous result was removed from the store.
  return reasons.length > 0 ? reasons : [{ kind: 'no-previous-result' }];
}
