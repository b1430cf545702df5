// Owns the redaction stage of a run's event stream: the sink it wraps receives each event with the
// workflow's secret values replaced, as a typed value (never serialised and parsed again).
import type { RunEvent } from './run-event.js';
import type { RunEventSink } from './run-event-sink.js';
import { redactValue } from './redact.js';

/** `kind` and `time` are the engine's own vocabulary, never user data: they stay intact so the event stays valid. */
export function redactEvent(event: RunEvent, secrets: readonly string[]): RunEvent {
  if (!secrets.some((s) => s.length > 0)) return event;
  return Object.fromEntries(
    Object.entries(event).map(([k, v]) => [k, k === 'kind' || k === 'time' ? v : redactValue(v, secrets)]),
  ) as RunEvent;
}

export function redactSink(secrets: readonly string[], inner: RunEventSink): RunEventSink {
  return {
    onEvent: (event) => inner.onEvent(redactEvent(event, secrets)),
    close: () => inner.close(),
  };
}
