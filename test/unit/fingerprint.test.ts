import { describe, expect, it } from 'vitest';
import { computeFingerprint, fingerprintKey, type Fingerprint } from '../../engine/plan/fingerprint.js';
import { explainMiss } from '../../engine/plan/explain-miss.js';
import { describeReason } from '../../engine/plan/rerun-reason.js';
import { decideStep, type PlanFacts } from '../../engine/plan/decide-step.js';
import type { StepRecord } from '../../engine/plan/step-record.js';
import type { ObjectProblem } from '../../engine/store/object-problem.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';
import { countTokens, makeSeqs, makeSeqsStep } from '../helpers/test-plugins.js';

const plugin = countTokens;
const digest = (c: string): Sha256Hex => c.repeat(64) as Sha256Hex;
const W = { name: 'w', devices: {} };
const key = (params: Record<string, unknown>, inputs = { sequences: digest('a') }) =>
  fingerprintKey(computeFingerprint(plugin, params, inputs, {}));

describe('cache keys', () => {
  it('change with params, input artifacts, plugin version and numerics', () => {
    const base = key({ k: 6 });
    expect(key({ k: 4 })).not.toBe(base);
    expect(key({ k: 6 }, { sequences: digest('b') })).not.toBe(base);
    expect(fingerprintKey(computeFingerprint({ ...plugin, version: '2' }, { k: 6 }, { sequences: digest('a') }, {}))).not.toBe(base);
    expect(key({ k: 6, precision: 'bf16' })).not.toBe(key({ k: 6, precision: 'fp32' }));
  });

  it('do not change with execution settings or key order', () => {
    expect(key({ k: 6, threads: 8 })).toBe(key({ k: 6 }));
    expect(key({ k: 6, precision: 'fp32' })).toBe(key({ precision: 'fp32', k: 6 }));
  });

  it('keep numerics apart from params in the record', () => {
    const fp = computeFingerprint(plugin, { k: 6, precision: 'bf16', threads: 2 }, {}, {});
    expect(fp).toEqual({
      schema: 1,
      plugin: 'test/tokens',
      pluginVersion: '1',
      params: { k: 6 },
      inputs: {},
      files: {},
      numerics: { precision: 'bf16' },
    });
  });
});

describe('explainMiss', () => {
  const before = computeFingerprint(plugin, { k: 6 }, { sequences: digest('a') }, { file: digest('c') });
  it('names each changed field', () => {
    const after: Fingerprint = {
      ...before,
      pluginVersion: '2',
      params: { k: 4 },
      inputs: { sequences: digest('b') },
      files: { file: digest('d') },
    };
    expect(explainMiss(before, after).map(describeReason)).toEqual([
      'plugin version changed test/tokens@1 -> test/tokens@2',
      'params.k changed 6 -> 4',
      'input file file changed',
      'input sequences changed (upstream output differs)',
    ]);
  });
  it('says there is no previous result the first time', () => {
    expect(explainMiss(undefined, before)).toEqual([{ kind: 'no-previous-result' }]);
  });
});

describe('decideStep', () => {
  const step = makeSeqsStep('in.txt');
  const facts = (records: Map<string, StepRecord>, files: Record<string, Sha256Hex | undefined>, problem?: ObjectProblem): PlanFacts => ({
    record: (k) => records.get(k),
    previous: () => undefined,
    inputPath: (p) => ({ digest: files[p], files: () => undefined }),
    externalDataDigests: () => ({}),
    outputDigest: (p) => files[p],
    entryProblem: () => problem,
  });

  it('is cached when a record exists under the key and its outputs are intact', () => {
    const fp = computeFingerprint(step.plugin, step.keyParams, {}, { file: digest('1') });
    const k = fingerprintKey(fp);
    const record: StepRecord = {
      schema: 1,
      key: k,
      fingerprint: fp,
      outputs: {},
      external: [{ path: 'out/x', digest: digest('2') }],
      summary: {},
      workflow: 'w',
      step: 's',
      durationMs: 1,
      finishedAt: '',
    };
    const records = new Map([[k, record]]);
    expect(decideStep(W, step, { known: {} }, facts(records, { 'in.txt': digest('1'), 'out/x': digest('2') })).status).toBe('cached');
    expect(decideStep(W, step, { known: {} }, facts(records, { 'in.txt': digest('1') }))).toMatchObject({
      status: 'will-run',
      reasons: [{ kind: 'output-missing', path: 'out/x' }],
    });
    expect(decideStep(W, step, { known: {} }, facts(records, { 'in.txt': digest('1'), 'out/x': digest('3') }))).toMatchObject({
      status: 'will-run',
      reasons: [{ kind: 'output-changed', path: 'out/x' }],
    });
    expect(decideStep(W, step, { known: {} }, facts(records, { 'in.txt': digest('9'), 'out/x': digest('2') })).status).toBe('will-run');
  });

  it('keys an ONNX model by each external data file too, named by its location', () => {
    const onnxPlugin = {
      ...makeSeqs,
      with: { properties: { model: { type: 'string', 'x-strand-path': 'input', 'x-strand-format': 'onnx' } } },
    };
    const onnxStep = { ...step, plugin: onnxPlugin, params: { model: 'm/model.onnx' }, keyParams: { model: 'm/model.onnx' } };
    const withData = (data: Sha256Hex): PlanFacts => ({
      ...facts(new Map(), { 'm/model.onnx': digest('1') }),
      externalDataDigests: (p): Record<string, Sha256Hex> => (p === 'm/model.onnx' ? { 'model.onnx_data': data } : {}),
    });
    const before = decideStep(W, onnxStep, { known: {} }, withData(digest('2')));
    const after = decideStep(W, onnxStep, { known: {} }, withData(digest('3')));
    expect(before.fingerprint?.files).toEqual({ model: digest('1'), 'model:model.onnx_data': digest('2') });
    expect(after.key).not.toBe(before.key);
    expect(explainMiss(before.fingerprint, after.fingerprint!).map(describeReason)).toEqual(['input file model:model.onnx_data changed']);
  });

  it('runs a step whose cached result has a corrupt object, saying so', () => {
    const fp = computeFingerprint(step.plugin, step.keyParams, {}, { file: digest('1') });
    const record: StepRecord = {
      schema: 1,
      key: fingerprintKey(fp),
      fingerprint: fp,
      outputs: {},
      external: [],
      summary: {},
      workflow: 'w',
      step: 's',
      durationMs: 1,
      finishedAt: '',
    };
    const decision = decideStep(
      W,
      step,
      { known: {} },
      facts(new Map([[record.key, record]]), { 'in.txt': digest('1') }, { kind: 'object-corrupt', digest: digest('e') }),
    );
    expect(decision.status === 'will-run' && decision.reasons.map(describeReason)).toEqual([
      'cache entry is corrupt (store object eeeeeeeeeeee is corrupt (its content does not match its digest))',
    ]);
  });

  it('waits on an upstream step that will run', () => {
    expect(decideStep(W, step, { pendingOn: 'up' }, facts(new Map(), {}))).toEqual({
      status: 'will-run',
      reasons: [{ kind: 'upstream-will-run', step: 'up' }],
    });
  });
});
