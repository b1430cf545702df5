import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { PlanView } from '../../engine/tui/PlanView.js';
import type { PlanModel } from '../../engine/tui/plan-rows.js';
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
