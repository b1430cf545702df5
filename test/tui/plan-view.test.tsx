import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { PlanView } from '../../engine/tui/PlanView.js';
import { planRows, type PlanModel } from '../../engine/tui/plan-rows.js';
import { formatPlan } from '../../engine/cli/commands/plan.js';
import type { PlanFacts } from '../../engine/plan/decide-step.js';
import type { InputFile } from '../../engine/plan/diff-input-files.js';
import { computeFingerprint, fingerprintKey } from '../../engine/plan/fingerprint.js';
import { planRun } from '../../engine/plan/plan-run.js';
import type { StepRecord } from '../../engine/plan/step-record.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { builtinSteps } from '../../steps/index.js';
import { yamlSource } from '../helpers/fake-source.js';
import { press, readingKeys, stoppedReadingKeys } from '../helpers/ink-input.js';

const model: PlanModel = {
  name: 'quickstart',
  file: 'workflows/quickstart.yaml',
  rows: [
    {
      step: 'source',
      uses: 'source/parquet',
      status: 'cached',
      why: '',
      placement: 'local cpu',
      details: [{ label: 'with.path', value: 'data/a.parquet' }],
    },
    {
      step: 'embed',
      uses: 'embed/onnx',
      status: 'will run',
      why: 'params.pooling changed "cls" -> "mean"',
      placement: 'local cpu',
      details: [
        { label: 'with.pooling', value: 'mean' },
        { label: 'cache key', value: 'abc123' },
      ],
    },
  ],
  totals: '2 steps: 1 will run, 1 cached',
};

describe('PlanView', () => {
  it('shows each step with status, reason and placement, and the totals', () => {
    const { lastFrame } = render(<PlanView model={model} width={100} />);
    expect(lastFrame()).toMatchInlineSnapshot(`
      "plan: quickstart (workflows/quickstart.yaml)
      › cached    source  source/parquet  local cpu
        will run  embed   embed/onnx      local cpu  params.pooling changed "cls" -> "mean"
      2 steps: 1 will run, 1 cached
      ↑/↓ move · Enter details · q quit"
    `);
  });

  it('moves with the arrow keys and opens details with Enter', async () => {
    const app = render(<PlanView model={model} width={100} />);
    await readingKeys(app);
    await press(app, '\u001B[B', (f) => f.includes('› will run  embed')); // down
    const frame = await press(app, '\r', (f) => f.includes('embed (embed/onnx)'));
    expect(frame).toContain('› will run  embed');
    expect(frame).toContain('with.pooling: mean');
    expect(frame).toContain('cache key: abc123');
    expect(await press(app, 'k', (f) => f.includes('› cached    source'))).toContain('source (source/parquet)');
  });

  it('quits on q', async () => {
    const app = render(<PlanView model={model} width={100} />);
    await readingKeys(app);
    app.stdin.write('q');
    await stoppedReadingKeys(app);
    const frames = app.frames.length;
    app.stdin.write('j');
    expect(app.frames).toHaveLength(frames);
    expect(app.lastFrame()).toContain('› cached    source');
  });

  it('cuts lines to the terminal width', () => {
    const { lastFrame } = render(<PlanView model={model} width={40} />);
    expect(
      lastFrame()!
        .split('\n')
        .every((line) => line.length <= 40),
    ).toBe(true);
    expect(lastFrame()).toContain('…');
  });
});

describe('the plan view of a changed glob input', () => {
  const source = yamlSource(`version: 1
name: globbed
steps:
  source: { uses: source/fasta, with: { path: "data/*.fasta" } }
`);
  const { workflow } = checkWorkflow({ source, plugins: new Map(builtinSteps.map((p) => [p.id, p])), overrides: {}, env: {} });
  const digest = (c: string): Sha256Hex => c.repeat(64) as Sha256Hex;
  const files = (names: string[], c: string): InputFile[] => names.map((n) => ({ name: `data/${n}.fasta`, digest: digest(c) }));
  const step = workflow!.steps[0]!;
  const previous = computeFingerprint(step.plugin, step.keyParams, {}, { path: digest('a') });
  const record: StepRecord = {
    schema: 1,
    key: fingerprintKey(previous),
    fingerprint: previous,
    inputFiles: { path: files(['a', 'b', 'c', 'd', 'e'], '1') },
    outputs: {},
    external: [],
    summary: {},
    workflow: 'globbed',
    step: 'source',
    durationMs: 1,
    finishedAt: '',
  };
  const facts: PlanFacts = {
    record: (k) => (k === record.key ? record : undefined),
    previous: () => previous,
    inputPath: () => ({
      digest: digest('b'),
      files: () => [...files(['a'], '2'), ...files(['b', 'c', 'd', 'e'], '1'), ...files(['f', 'g', 'h', 'i'], '3')],
    }),
    externalDataDigests: () => ({}),
    outputDigest: () => undefined,
    entryProblem: () => undefined,
  };
  const entries = planRun(workflow!, facts);
  const why = 'input file path changed: changed data/a.fasta; added data/f.fasta, data/g.fasta, data/h.fasta and 1 more';

  it('gives the row the plain plan’s reason, and the details pane shows it whole', async () => {
    expect(formatPlan('globbed', 'flow.yaml', entries, new Map())).toContain(`source/fasta  ${why}\n`);
    const model = planRows(workflow!, entries);
    expect(model.rows[0]!.why).toBe(why);
    const app = render(<PlanView model={model} width={60} />);
    await readingKeys(app);
    const frame = await press(app, '\r', (f) => f.includes('source (source/fasta)'));
    // The row is cut at the width; the reason wraps whole in the pane (the key's digest left out: it follows the plugin's version).
    expect(frame.replace(/cache key: [0-9a-f]{16}/, 'cache key: <key>')).toMatchInlineSnapshot(`
      "plan: globbed (flow.yaml)
      › will run  source  source/fasta  local cpu  input file pa…
      1 steps: 1 will run, 0 cached
      ┌──────────────────────────────────────────────────────────────────────────────────────────────────┐
      │ source (source/fasta)                                                                            │
      │ why: input file path changed: changed data/a.fasta; added data/f.fasta, data/g.fasta,            │
      │ data/h.fasta and 1 more                                                                          │
      │ with.path: data/*.fasta                                                                          │
      │ output sequences: sequences                                                                      │
      │ plugin: source/fasta@1                                                                           │
      │ key file path: bbbbbbbbbbbb                                                                      │
      │ cache key: <key>                                                                      │
      └──────────────────────────────────────────────────────────────────────────────────────────────────┘
      ↑/↓ move · Enter details · q quit"
    `);
  });
});
