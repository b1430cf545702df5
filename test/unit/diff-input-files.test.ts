import { describe, expect, it } from 'vitest';
import { decideStep, type PlanFacts } from '../../engine/plan/decide-step.js';
import { describeInputFileChanges, diffInputFiles, type InputFile } from '../../engine/plan/diff-input-files.js';
import { computeFingerprint, fingerprintKey } from '../../engine/plan/fingerprint.js';
import { describeReason } from '../../engine/plan/rerun-reason.js';
import type { StepRecord } from '../../engine/plan/step-record.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';
import { makeSeqsStep } from '../helpers/test-plugins.js';

const digest = (c: string): Sha256Hex => c.repeat(64) as Sha256Hex;
const local = (name: string, c: string): InputFile => ({ name, digest: digest(c) });
const object = (name: string, generation: string): InputFile => ({ name: `gs://b/${name}`, generation });

describe('diffInputFiles', () => {
  it('names the files added, removed and changed, each in name order', () => {
    const before = [local('data/a.fasta', '1'), local('data/b.fasta', '2'), local('data/c.fasta', '3')];
    const after = [local('data/e.fasta', '5'), local('data/b.fasta', '2'), local('data/c.fasta', '4'), local('data/d.fasta', '6')];
    expect(diffInputFiles(before, after)).toEqual({
      added: [{ name: 'data/d.fasta' }, { name: 'data/e.fasta' }],
      removed: [{ name: 'data/a.fasta' }],
      changed: [{ name: 'data/c.fasta' }],
    });
  });

  it('gives a replaced object its generations before and now', () => {
    const changes = diffInputFiles(
      [object('x.parquet', '2'), object('y.parquet', '3')],
      [object('x.parquet', '7'), object('z.parquet', '8')],
    );
    expect(changes).toEqual({
      added: [{ name: 'gs://b/z.parquet', generation: '8' }],
      removed: [{ name: 'gs://b/y.parquet', generation: '3' }],
      changed: [{ name: 'gs://b/x.parquet', from: '2', to: '7' }],
    });
    expect(describeInputFileChanges(changes)).toBe(
      'changed gs://b/x.parquet (generation 2 -> 7); added gs://b/z.parquet (generation 8); removed gs://b/y.parquet (generation 3)',
    );
  });

  it('finds nothing between equal listings', () => {
    const files = [local('a', '1'), object('b', '2')];
    expect(diffInputFiles(files, [...files].reverse())).toEqual({ added: [], removed: [], changed: [] });
  });
});

describe('describeInputFileChanges', () => {
  const names = (n: number): { name: string }[] => Array.from({ length: n }, (_, i) => ({ name: `f${i}` }));

  it('shows the first three of each kind by name and counts the rest', () => {
    expect(describeInputFileChanges({ added: names(5), removed: names(3), changed: [] })).toBe(
      'added f0, f1, f2 and 2 more; removed f0, f1, f2',
    );
  });

  it('shows as many names as asked', () => {
    expect(describeInputFileChanges({ added: [], removed: [], changed: names(2) }, 1)).toBe('changed f0 and 1 more');
  });
});

describe('a plan names the files of a glob that changed', () => {
  const step = makeSeqsStep('data/*.fasta');
  const W = { name: 'w', devices: {} };
  const before = [local('data/a.fasta', '1'), local('data/b.fasta', '2')];
  const fingerprint = computeFingerprint(step.plugin, step.keyParams, {}, { file: digest('a') });
  const record: StepRecord = {
    schema: 1,
    key: fingerprintKey(fingerprint),
    fingerprint,
    inputFiles: { file: before },
    outputs: {},
    external: [],
    summary: {},
    workflow: 'w',
    step: 's',
    durationMs: 1,
    finishedAt: '',
  };
  const facts = (records: StepRecord[], files: InputFile[]): PlanFacts => ({
    record: (k) => records.find((r) => r.key === k),
    previous: () => fingerprint,
    inputPath: (p) => ({ digest: digest('b'), files: () => (p === 'data/*.fasta' ? files : undefined) }),
    externalDataDigests: () => ({}),
    outputDigest: () => undefined,
    entryProblem: () => undefined,
  });
  const now = [local('data/b.fasta', '3'), local('data/c.fasta', '4')];

  it('from the listing kept in the previous record', () => {
    const decision = decideStep(W, step, { known: {} }, facts([record], now));
    expect(decision).toMatchObject({ status: 'will-run', inputFiles: { file: now } });
    expect(decision.status === 'will-run' && decision.reasons).toEqual([
      {
        kind: 'file-changed',
        name: 'file',
        changes: { added: [{ name: 'data/c.fasta' }], removed: [{ name: 'data/a.fasta' }], changed: [{ name: 'data/b.fasta' }] },
      },
    ]);
    expect(decision.status === 'will-run' && decision.reasons.map(describeReason)).toEqual([
      'input file file changed: changed data/b.fasta; added data/c.fasta; removed data/a.fasta',
    ]);
  });

  it('says only that the path changed when the previous record is gone or kept no listing', () => {
    for (const records of [[], [{ ...record, inputFiles: {} }]]) {
      const decision = decideStep(W, step, { known: {} }, facts(records, now));
      expect(decision.status === 'will-run' && decision.reasons.map(describeReason)).toEqual(['input file file changed']);
    }
  });
});
