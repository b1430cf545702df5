// Owns deciding whether one step is cached or must run, and why. Pure: what the store and the file
// system know arrives through `PlanFacts`. `strand plan` and `strand run` share this decision.
import { describeObjectProblem, type ObjectProblem } from '../store/object-problem.js';
import type { StepSpec, Workflow } from '../workflow/workflow.js';
import { placementNumerics } from '../devices/step-runtime.js';
import { pathParams } from '../workflow/path-params.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { InputFile, InputFileLists } from './diff-input-files.js';
import { explainMiss } from './explain-miss.js';
import { computeFingerprint, fingerprintKey, type Fingerprint } from './fingerprint.js';
import type { RerunReason } from './rerun-reason.js';
import type { StepRecord } from './step-record.js';

export interface PlanFacts {
  record(key: Sha256Hex): StepRecord | undefined;
  previous(workflow: string, step: string): Fingerprint | undefined;
  /** An input path (a file, folder, glob or gs:// path), looked at once for its digest and, if asked, its files. */
  inputPath(path: string): InputPathFacts;
  /** Digests of the external data files an ONNX model at `path` loads, by location (relative to the model). */
  externalDataDigests(path: string): Record<string, Sha256Hex>;
  /** Digest of a file or directory written outside the store; undefined when it is gone. */
  outputDigest(path: string): Sha256Hex | undefined;
  /** The first object of a cached result that is missing or corrupt (verified by digest), if any. */
  entryProblem(record: StepRecord): ObjectProblem | undefined;
}

export interface InputPathFacts {
  /** Digest of the file(s) the path names; undefined when none exist. */
  digest: Sha256Hex | undefined;
  /**
   * Each file a glob, folder or gs:// path names (a digest, or a generation), for naming what changed;
   * undefined for a single local file, whose digest says it all. Asked only of a step that will run.
   */
  files(): InputFile[] | undefined;
}

/** Input artifacts of a step: manifest digests, or the upstream step that has yet to run. */
export type StepInputs = { known: Record<string, Sha256Hex> } | { pendingOn: string };

export type StepDecision =
  | { status: 'cached'; key: Sha256Hex; fingerprint: Fingerprint; record: StepRecord }
  | {
      status: 'will-run';
      reasons: RerunReason[];
      key?: Sha256Hex;
      fingerprint?: Fingerprint;
      /** With a key: what the step's record keeps of its glob, folder and gs:// inputs. */
      inputFiles?: InputFileLists;
    };

/** The files of each glob, folder or gs:// input param, listed only for a step that will run. */
function listInputFiles(inputs: readonly [string, InputPathFacts][]): InputFileLists {
  const lists: InputFileLists = {};
  for (const [key, input] of inputs) {
    const files = input.files();
    if (files !== undefined) lists[key] = [...(lists[key] ?? []), ...files];
  }
  return lists;
}

/** `workflow` gives the history's name and the devices (a step's device decides its runtime, part of the key). */
export function decideStep(
  workflow: Pick<Workflow, 'name' | 'devices'>,
  step: StepSpec,
  inputs: StepInputs,
  facts: PlanFacts,
): StepDecision {
  if ('pendingOn' in inputs) return { status: 'will-run', reasons: [{ kind: 'upstream-will-run', step: inputs.pendingOn }] };
  const files: Record<string, Sha256Hex> = {};
  const paths: [string, InputPathFacts][] = [];
  for (const { key, path, direction, format } of pathParams(step)) {
    if (direction !== 'input') continue;
    const input = facts.inputPath(path);
    paths.push([key, input]);
    if (input.digest !== undefined) files[key] = input.digest;
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
    const inputFiles = listInputFiles(paths);
    const previous = facts.previous(workflow.name, step.id);
    // The previous result's record holds its file lists (gone once collected: the reason then names no files).
    const listed = { previous: previous && facts.record(fingerprintKey(previous))?.inputFiles, current: inputFiles };
    return { status: 'will-run', key, fingerprint, inputFiles, reasons: explainMiss(previous, fingerprint, listed) };
  }
  const problem = facts.entryProblem(record);
  const reasons: RerunReason[] = problem === undefined ? [] : [{ kind: 'corrupt-entry', detail: describeObjectProblem(problem) }];
  for (const output of record.external) {
    const current = facts.outputDigest(output.path);
    if (current === undefined) reasons.push({ kind: 'output-missing', path: output.path });
    else if (current !== output.digest) reasons.push({ kind: 'output-changed', path: output.path });
  }
  return reasons.length > 0
    ? { status: 'will-run', key, fingerprint, inputFiles: listInputFiles(paths), reasons }
    : { status: 'cached', key, fingerprint, record };
}
