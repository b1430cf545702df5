// Owns deciding whether one step is cached or must run, and why. Pure: what the store and the file
// system know arrives through `PlanFacts`. `strand plan` and `strand run` share this decision.
import { describeObjectProblem, type ObjectProblem } from '../store/object-problem.js';
import type { StepSpec, Workflow } from '../workflow/workflow.js';
import { placementNumerics } from '../devices/step-runtime.js';
import { pathParams } from '../workflow/path-params.js';
import type { Sha256Hex } from '../util/sha256.js';
import { explainMiss } from './explain-miss.js';
import { computeFingerprint, fingerprintKey, type Fingerprint } from './fingerprint.js';
import type { RerunReason } from './rerun-reason.js';
import type { StepRecord } from './step-record.js';

export interface PlanFacts {
  record(key: Sha256Hex): StepRecord | undefined;
  previous(workflow: string, step: string): Fingerprint | undefined;
  /** Digest of the file(s) an input path (or glob) names; undefined when none exist. */
  inputFileDigest(path: string): Sha256Hex | undefined;
  /** Digests of the external data files an ONNX model at `path` loads, by location (relative to the model). */
  externalDataDigests(path: string): Record<string, Sha256Hex>;
  /** Digest of a file or directory written outside the store; undefined when it is gone. */
  outputDigest(path: string): Sha256Hex | undefined;
  /** The first object of a cached result that is missing or corrupt (verified by digest), if any. */
  entryProblem(record: StepRecord): ObjectProblem | undefined;
}

/** Input artifacts of a step: manifest digests, or the upstream step that has yet to run. */
export type StepInputs = { known: Record<string, Sha256Hex> } | { pendingOn: string };

export type StepDecision =
  | { status: 'cached'; key: Sha256Hex; fingerprint: Fingerprint; record: StepRecord }
  | { status: 'will-run'; reasons: RerunReason[]; key?: Sha256Hex; fingerprint?: Fingerprint };

/** `workflow` gives the history's name and the devices (a step's device decides its runtime, part of the key). */
export function decideStep(
  workflow: Pick<Workflow, 'name' | 'devices'>,
  step: StepSpec,
  inputs: StepInputs,
  facts: PlanFacts,
): StepDecision {
  if ('pendingOn' in inputs) return { status: 'will-run', reasons: [{ kind: 'upstream-will-run', step: inputs.pendingOn }] };
  const files: Record<string, Sha256Hex> = {};
  for (const { key, path, direction, format } of pathParams(step)) {
    if (direction !== 'input') continue;
    const digest = facts.inputFileDigest(path);
    if (digest !== undefined) files[key] = digest;
    // New weights in model.onnx_data with model.onnx unchanged must still miss: each data file is a field.
    if (format !== undefined)
      for (const [location, data] of Object.entries(facts.externalDataDigests(path))) files[`${key}:${location}`] = data;
  }
  const device = step.placement.on === undefined ? undefined : workflow.devices[step.placement.on];
  const fingerprint = computeFingerprint(
    step.plugin,
    step.keyParams,
    inputs.known,
    files,
    placementNumerics(step.plugin, step.placement, device),
  );
  const key = fingerprintKey(fingerprint);
  const record = facts.record(key);
  if (record === undefined) {
    return { status: 'will-run', key, fingerprint, reasons: explainMiss(facts.previous(workflow.name, step.id), fingerprint) };
  }
  const problem = facts.entryProblem(record);
  const reasons: RerunReason[] = problem === undefined ? [] : [{ kind: 'corrupt-entry', detail: describeObjectProblem(problem) }];
  for (const output of record.external) {
    const current = facts.outputDigest(output.path);
    if (current === undefined) reasons.push({ kind: 'output-missing', path: output.path });
    else if (current !== output.digest) reasons.push({ kind: 'output-changed', path: output.path });
  }
  return reasons.length > 0 ? { status: 'will-run', key, fingerprint, reasons } : { status: 'cached', key, fingerprint, record };
}
