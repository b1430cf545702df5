// Owns the plain line-per-event view of a run (pipes, CI, `--plain`).
import { describeReason } from '../plan/rerun-reason.js';
import type { RunEvent } from './run-event.js';
import type { RunEventSink } from './run-event-sink.js';

export function plainSink(write: (text: string) => void): RunEventSink {
  return {
    onEvent: (event) => {
      const text = formatPlainEvent(event);
      if (text !== undefined) write(`${text}\n`);
    },
    close: async () => {},
  };
}

function formatPlainEvent(event: RunEvent): string | undefined {
  switch (event.kind) {
    case 'run-started':
      return `run ${event.runId}: ${event.workflow} (${event.steps.length} steps)`;
    case 'step-cached':
      return `  cached    ${event.step}`;
    case 'step-started':
      return `  run       ${event.step}: ${event.reasons.map(describeReason).join('; ')}`;
    case 'shard-done':
    case 'shard-resumed':
    case 'step-progress':
      return undefined;
    case 'step-log':
      return `  log       ${event.step}: ${event.message}`;
    case 'step-finished': {
      const summary = Object.entries(event.summary)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      return `  done      ${event.step} in ${(event.durationMs / 1000).toFixed(1)}s${summary ? ` (${summary})` : ''}${event.external.length ? ` -> ${event.external.join(', ')}` : ''}`;
    }
    case 'step-failed':
      return `  FAILED    ${event.step}: ${event.message}${event.hint ? `\n            hint: ${event.hint}` : ''}`;
    case 'step-interrupted':
      return `  stopped   ${event.step} (completed shards are kept; run again to resume)`;
    case 'step-blocked':
      return `  blocked   ${event.step} (${event.by} did not finish)`;
    case 'run-finished':
      return `${event.status} in ${(event.durationMs / 1000).toFixed(1)}s`;
    case 'run-planned':
    case 'resource-sample':
    case 'step-attempt':
    case 'step-preempted':
      return undefined; // the remote executor logs attempts and preemptions as text too
    case 'report-written':
      return `report: ${event.path}`;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}
