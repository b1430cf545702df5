// Owns what `strand watch` writes: its run events and its own reports (a change seen, a file that no
// longer checks, the plan, stale steps, notes), as text lines or, with --json, as JSON lines — the run
// events exactly as `strand run --json` writes them, the reports as `watch-*` objects beside them.
import { formatDiagnostics } from '../diagnostics/format-diagnostic.js';
import { jsonLinesSink } from '../events/json-lines-sink.js';
import { plainSink } from '../events/plain-sink.js';
import { redact } from '../events/redact.js';
import type { RunEventSink } from '../events/run-event-sink.js';
import { describeReason } from '../plan/rerun-reason.js';
import type { WatchReport } from '../watch/watch-loop.js';

export interface WatchOutput {
  /** Where each run's events go (redacted by the run). */
  sink: RunEventSink;
  report(message: WatchReport): void;
  /** A line of its own: the poller could not list an object, watch is stopping. */
  note(message: string): void;
}

export interface WatchOutputOptions {
  format: 'json' | 'plain';
  write: (text: string) => void;
  /** The loaded workflow's secrets, at the time of writing. */
  secrets: () => readonly string[];
  /** The text of a file a diagnostic points into (for its code frame). */
  textOf: (file: string) => string | undefined;
}

export function watchOutput(options: WatchOutputOptions): WatchOutput {
  const { write, secrets } = options;
  if (options.format === 'json') {
    const emit = (value: object): void => write(redact(JSON.stringify(value), secrets()) + '\n');
    return {
      sink: jsonLinesSink(write),
      report: (message) => emit(reportJson(message)),
      note: (message) => emit({ kind: 'watch-note', message }),
    };
  }
  const print = (text: string): void => write(redact(text, secrets()) + '\n');
  return { sink: plainSink(write), report: (message) => print(reportText(message, options.textOf)), note: print };
}

function reportJson(message: WatchReport): object {
  switch (message.kind) {
    case 'change':
      return { kind: 'watch-change', file: message.file };
    case 'invalid':
      return { kind: 'watch-invalid', diagnostics: message.diagnostics };
    case 'plan':
      return {
        kind: 'watch-plan',
        steps: message.entries.map((e) => ({
          step: e.step,
          status: e.decision.status,
          reasons: e.decision.status === 'will-run' ? e.decision.reasons.map((r) => ({ ...r, text: describeReason(r) })) : [],
        })),
      };
    case 'stale':
      return { kind: 'watch-stale', steps: message.steps };
    default: {
      const unreachable: never = message;
      throw new Error(`unknown report ${JSON.stringify(unreachable)}`);
    }
  }
}

function reportText(message: WatchReport, textOf: (file: string) => string | undefined): string {
  switch (message.kind) {
    case 'change':
      return `changed: ${message.file}`;
    case 'invalid':
      return `${formatDiagnostics(message.diagnostics, textOf)}\nkeeping the last good plan; fix the file to continue`;
    case 'plan': {
      const toRun = message.entries.flatMap((e) =>
        e.decision.status === 'will-run' ? [{ step: e.step, reasons: e.decision.reasons }] : [],
      );
      if (toRun.length === 0) return 'everything is up to date; watching for changes (Ctrl-C to stop)';
      return `will run: ${toRun.map((e) => `${e.step} (${e.reasons.map(describeReason).join('; ')})`).join(', ')}`;
    }
    case 'stale':
      return `stopping ${message.steps.join(', ')}: changed while running (completed shards are kept)`;
    default: {
      const unreachable: never = message;
      throw new Error(`unknown report ${JSON.stringify(unreachable)}`);
    }
  }
}
