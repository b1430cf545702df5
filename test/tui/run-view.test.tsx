import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { RunView } from '../../engine/tui/RunView.js';
import { EMPTY_RUN, reduceRun } from '../../engine/tui/run-state.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const events: RunEvent[] = [
  { kind: 'run-started', runId: 'r1', workflow: 'quickstart', file: 'q.yaml', steps: ['source', 'tokens', 'embed'], time: t(0) },
  { kind: 'step-cached', step: 'source', key: 'k1', time: t(0) },
  { kind: 'step-started', step: 'tokens', key: 'k2', reasons: [{ kind: 'no-previous-result' }], time: t(0) },
  { kind: 'step-finished', step: 'tokens', key: 'k2', durationMs: 1500, summary: {}, outputs: ['tokens'], external: [], time: t(2) },
  {
    kind: 'step-started',
    step: 'embed',
    key: 'k3',
    reasons: [{ kind: 'param-changed', name: 'pooling', from: 'cls', to: 'mean' }],
    time: t(2),
  },
  { kind: 'step-progress', step: 'embed', done: 2, total: 8, unit: 'shards', counters: { sequences: 500, tokens: 50000 }, time: t(12) },
  { kind: 'step-log', step: 'embed', message: 'using 2 threads', time: t(12) },
];

describe('RunView', () => {
  it('shows cached and finished steps, and a progress bar with rates and ETA for the running one', () => {
    const state = events.reduce(reduceRun, EMPTY_RUN);
    const { lastFrame } = render(<RunView state={state} width={100} outputs={[]} />);
    expect(lastFrame()).toMatchInlineSnapshot(`
      "run r1: quickstart
      cached   source
      done     tokens 1.5s
      running  embed  █████░░░░░░░░░░░░░░░ 2/8 shards  50.0 sequences/s  5000 tokens/s  ETA 30s

      embed: using 2 threads"
    `);
  });

  it('ends with a summary of what ran, what was cached and where outputs are', () => {
    const end: RunEvent[] = [
      ...events,
      {
        kind: 'step-finished',
        step: 'embed',
        key: 'k3',
        durationMs: 20000,
        summary: {},
        outputs: ['embeddings'],
        external: ['out/v.lancedb'],
        time: t(22),
      },
      { kind: 'run-finished', status: 'ok', durationMs: 22000, time: t(22) },
    ];
    const state = end.reduce(reduceRun, EMPTY_RUN);
    const frame = render(<RunView state={state} width={100} outputs={['out/v.lancedb']} />).lastFrame()!;
    expect(frame).toContain('done     embed  20.0s');
    expect(frame).toContain('ok in 22.0s: 2 ran, 1 cached');
    expect(frame).toContain('output: out/v.lancedb');
  });

  it('shows a failure with its message', () => {
    const state = [
      ...events,
      { kind: 'step-failed', step: 'embed', message: 'model has no output x', hint: 'choose one', time: t(13) } as RunEvent,
    ].reduce(reduceRun, EMPTY_RUN);
    const frame = render(<RunView state={state} width={100} outputs={[]} />).lastFrame()!;
    expect(frame).toContain('FAILED   embed  model has no output x');
    expect(frame).toContain('embed: model has no output x (hint: choose one)');
  });

  it("shows a training step's latest loss beside its rates and ETA", () => {
    const training: RunEvent[] = [
      ...events.slice(0, 4),
      { kind: 'step-started', step: 'embed', key: 'k3', reasons: [{ kind: 'no-previous-result' }], time: t(2) },
      {
        kind: 'step-progress',
        step: 'embed',
        done: 20,
        total: 100,
        unit: 'steps',
        counters: { tokens: 40000 },
        values: { loss: 1.23456 },
        time: t(12),
      },
    ];
    const frame = render(<RunView state={training.reduce(reduceRun, EMPTY_RUN)} width={120} outputs={[]} />).lastFrame()!;
    expect(frame).toContain('20/100 steps  loss 1.235  2.0 steps/s  4000 tokens/s  ETA 40s');
  });

  it("shows a remote step's tokens/s from its hosts and their ETA, not the shard rate's", () => {
    const remote: RunEvent[] = [
      ...events.slice(0, 4),
      { kind: 'step-started', step: 'embed', key: 'k3', reasons: [{ kind: 'no-previous-result' }], time: t(2) },
      {
        kind: 'step-progress',
        step: 'embed',
        done: 2,
        total: 8,
        unit: 'shards',
        values: { 'tokens/s': 5120 },
        etaSeconds: 75,
        time: t(12),
      },
    ];
    const frame = render(<RunView state={remote.reduce(reduceRun, EMPTY_RUN)} width={120} outputs={[]} />).lastFrame()!;
    // The shard rate since the start (boot and staging included) would say 30s.
    expect(frame).toContain('2/8 shards  tokens/s 5120  ETA 75s');
  });
});
