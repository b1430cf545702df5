// Redaction of run events as values: every string the event carries, keys included, before any sink.
import { describe, expect, it } from 'vitest';
import { redactEvent, redactSink } from '../../engine/events/redact-sink.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import { redact, redactValue } from '../../engine/events/redact.js';

const secret = 'hf_SeCrEt_7f3a9b';
const time = '2026-01-01T00:00:00.000Z';

describe('redact', () => {
  it('replaces every occurrence of every non-empty secret', () => {
    expect(redact(`a ${secret} b ${secret}c`, [secret, ''])).toBe('a [redacted] b [redacted]c');
  });

  it('walks arrays and objects, keys included, and keeps numbers and booleans', () => {
    expect(redactValue({ [`x${secret}`]: [secret, 1, true, null], n: 2 }, [secret])).toEqual({
      'x[redacted]': ['[redacted]', 1, true, null],
      n: 2,
    });
  });
});

describe('redactEvent', () => {
  it('redacts messages, hints, reasons and summary keys', () => {
    const failed: RunEvent = { kind: 'step-failed', step: 's', message: `login with ${secret} refused`, hint: `unset ${secret}`, time };
    expect(redactEvent(failed, [secret])).toEqual({
      kind: 'step-failed',
      step: 's',
      message: 'login with [redacted] refused',
      hint: 'unset [redacted]',
      time,
    });
    const started: RunEvent = {
      kind: 'step-started',
      step: 's',
      key: 'k',
      reasons: [{ kind: 'param-changed', name: 'token', from: 'old', to: secret }],
      time,
    };
    expect(redactEvent(started, [secret])).toEqual({
      ...started,
      reasons: [{ kind: 'param-changed', name: 'token', from: 'old', to: '[redacted]' }],
    });
    const finished: RunEvent = {
      kind: 'step-finished',
      step: 's',
      key: 'k',
      durationMs: 5,
      summary: { [secret]: 3 },
      outputs: [],
      external: [],
      time,
    };
    expect(redactEvent(finished, [secret])).toEqual({ ...finished, summary: { '[redacted]': 3 } });
  });

  it('keeps the kind and time, which are never user data, so the event stays valid', () => {
    const event: RunEvent = { kind: 'step-log', step: 's', message: 'log 2026', time };
    expect(redactEvent(event, ['log', '2026'])).toEqual({ kind: 'step-log', step: 's', message: '[redacted] [redacted]', time });
  });

  it('returns the event itself when there is no secret', () => {
    const event: RunEvent = { kind: 'step-log', step: 's', message: 'hello', time };
    expect(redactEvent(event, [''])).toBe(event);
  });
});

describe('redactSink', () => {
  it('hands the wrapped sink a redacted copy and leaves the emitted event untouched', async () => {
    const seen: RunEvent[] = [];
    let closed = false;
    const sink = redactSink([secret], { onEvent: (e) => void seen.push(e), close: async () => void (closed = true) });
    const event: RunEvent = { kind: 'step-log', step: 's', message: `token ${secret}`, time };
    sink.onEvent(event);
    await sink.close();
    expect(seen).toEqual([{ ...event, message: 'token [redacted]' }]);
    expect(event.message).toBe(`token ${secret}`);
    expect(closed).toBe(true);
  });
});
