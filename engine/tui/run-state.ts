// Owns the state of the live run view, folded from RunEvents: per step its status, progress and rates,
// the last log lines and the final summary. Pure: time comes from the events.
import type { RunEvent } from '../events/run-event.js';
import type { StepSummary } from '../plugin-api/step-plugin.js';
import { describeReason } from '../plan/rerun-reason.js';

export interface StepProgress {
  step: string;
  status: 'waiting' | 'running' | 'cached' | 'done' | 'failed' | 'interrupted' | 'blocked';
  done: number;
  total?: number;
  unit: string;
  /** Per second, over the step's run so far. */
  rates: Record<string, number>;
  /** The latest values the step reported as they are (e.g. loss). */
  values?: Record<string, number>;
  etaSeconds?: number;
  startedAt?: number;
  durationMs?: number;
  summary?: StepSummary;
  note?: string;
}

export interface RunState {
  workflow: string;
  runId: string;
  steps: StepProgress[];
  logs: string[];
  finished?: { status: string; durationMs: number };
  /** Where the run's HTML report was written (`strand run --report`). */
  report?: string;
}

export const EMPTY_RUN: RunState = { workflow: '', runId: '', steps: [], logs: [] };
const MAX_LOGS = 5;

function update(state: RunState, step: string, change: (s: StepProgress) => StepProgress): RunState {
  return { ...state, steps: state.steps.map((s) => (s.step === step ? change(s) : s)) };
}

export function reduceRun(state: RunState, event: RunEvent): RunState {
  const at = Date.parse(event.time);
  switch (event.kind) {
    case 'run-started':
      return {
        workflow: event.workflow,
        runId: event.runId,
        steps: event.steps.map((step) => ({ step, status: 'waiting', done: 0, unit: '', rates: {} })),
        logs: [],
      };
    case 'step-cached':
      return update(state, event.step, (s) => ({ ...s, status: 'cached' }));
    case 'step-started':
      return update(state, event.step, (s) => ({
        ...s,
        status: 'running',
        startedAt: at,
        note: event.reasons.map(describeReason).join('; '),
      }));
    case 'step-progress':
      return update(state, event.step, (s) => {
        const seconds = s.startedAt === undefined ? 0 : (at - s.startedAt) / 1000;
        const counters = { [event.unit]: event.done, ...(event.counters ?? {}) };
        const rates = seconds > 0 ? Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, v / seconds])) : {};
        const rate = rates[event.unit];
        const eta = event.total !== undefined && rate !== undefined && rate > 0 ? (event.total - event.done) / rate : undefined;
        return {
          ...s,
          done: event.done,
          unit: event.unit,
          rates,
          ...(event.values !== undefined ? { values: event.values } : {}),
          ...(event.total !== undefined ? { total: event.total } : {}),
          ...(event.etaSeconds !== undefined ? { etaSeconds: event.etaSeconds } : eta !== undefined ? { etaSeconds: eta } : {}),
        };
      });
    case 'step-finished':
      return update(state, event.step, (s) => ({ ...s, status: 'done', durationMs: event.durationMs, summary: event.summary }));
    case 'step-failed':
      return {
        ...update(state, event.step, (s) => ({ ...s, status: 'failed', note: event.message })),
        logs: [...state.logs, `${event.step}: ${event.message}${event.hint ? ` (hint: ${event.hint})` : ''}`].slice(-MAX_LOGS),
      };
    case 'step-interrupted':
      return update(state, event.step, (s) => ({ ...s, status: 'interrupted' }));
    case 'step-blocked':
      return update(state, event.step, (s) => ({ ...s, status: 'blocked', note: `${event.by} did not finish` }));
    case 'step-log':
      return { ...state, logs: [...state.logs, `${event.step}: ${event.message}`].slice(-MAX_LOGS) };
    case 'shard-done':
    case 'shard-resumed':
      return state;
    case 'run-finished':
      return { ...state, finished: { status: event.status, durationMs: event.durationMs } };
    case 'report-written':
      return { ...state, report: event.path };
    case 'run-planned':
    case 'resource-sample':
    case 'step-attempt':
    case 'step-preempted':
      return state;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}
