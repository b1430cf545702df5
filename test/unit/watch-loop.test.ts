import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PlanEntry } from '../../engine/plan/plan-run.js';
import { WatchLoop, type WatchDeps } from '../../engine/watch/watch-loop.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';

/** The loop never looks inside what loading gives: any value stands for a checked workflow. */
const workflow = { name: 'w' };
const entry = (step: string, key: string, status: 'cached' | 'will-run' = 'will-run'): PlanEntry =>
  ({
    step,
    uses: 'x',
    inputs: {},
    needs: [],
    decision: status === 'cached' ? { status, key: key as Sha256Hex } : { status, key: key as Sha256Hex, reasons: [] },
  }) as unknown as PlanEntry;

function harness(plans: PlanEntry[][]) {
  const calls: string[] = [];
  let release: (() => void) | undefined;
  let aborted = false;
  const deps: WatchDeps<typeof workflow> = {
    load: async () => (calls.push('load'), { workflow, diagnostics: [] }),
    plan: () => plans.shift() ?? [entry('a', 'k1', 'cached')],
    run: (_w, signal, onStarted) => {
      calls.push('run');
      onStarted('a', 'k1');
      return new Promise((resolve) => {
        release = () => resolve('ok');
        signal.addEventListener('abort', () => ((aborted = true), resolve('interrupted')));
      });
    },
    filesOf: () => [],
    watch: () => {},
    report: (m) => void calls.push(m.kind),
    setTimer: (ms, fire) => {
      const t = setTimeout(fire, ms);
      return () => clearTimeout(t);
    },
  };
  return { loop: new WatchLoop(deps, 100), calls, finishRun: () => release?.(), wasAborted: () => aborted };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('WatchLoop', () => {
  it('coalesces the several events of one save into one check', async () => {
    const h = harness([[entry('a', 'k1', 'cached')], [entry('a', 'k1', 'cached')]]);
    await h.loop.start();
    h.loop.changed('f');
    await vi.advanceTimersByTimeAsync(50);
    h.loop.changed('f');
    h.loop.changed('f');
    await vi.advanceTimersByTimeAsync(99);
    expect(h.calls.filter((c) => c === 'load')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.calls.filter((c) => c === 'load')).toHaveLength(2);
  });

  it('keeps a run going when its running steps are still valid, then checks again', async () => {
    const h = harness([[entry('a', 'k1')], [entry('a', 'k1'), entry('b', 'k9')], [entry('a', 'k1', 'cached')]]);
    await h.loop.start();
    expect(h.loop.state).toBe('running');
    h.loop.changed('f');
    await vi.advanceTimersByTimeAsync(100);
    expect(h.wasAborted()).toBe(false);
    h.finishRun();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.calls.filter((c) => c === 'load')).toHaveLength(3);
  });

  it('stops a run gracefully when a running step went stale', async () => {
    const h = harness([[entry('a', 'k1')], [entry('a', 'k2')]]);
    await h.loop.start();
    h.loop.changed('f');
    await vi.advanceTimersByTimeAsync(100);
    expect(h.wasAborted()).toBe(true);
    expect(h.calls).toContain('stale');
  });
});
