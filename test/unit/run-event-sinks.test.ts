// The plain-text, JSON-lines and journal sinks and their fan-out, fed typed events in memory.
import { describe, expect, it } from 'vitest';
import { combineSinks } from '../../engine/events/combine-sinks.js';
import { jsonLinesSink } from '../../engine/events/json-lines-sink.js';
import { plainSink } from '../../engine/events/plain-sink.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import type { RunEventSink } from '../../engine/events/run-event-sink.js';
import { journalSink } from '../../engine/run/journal-sink.js';

const time = '2026-01-01T00:00:00.000Z';
const events: RunEvent[] = [
  { kind: 'run-started', runId: 'r1', workflow: 'demo', file: 'flow.yaml', steps: ['source', 'embed'], time },
  { kind: 'step-cached', step: 'source', key: 'k1', time },
  { kind: 'step-started', step: 'embed', key: 'k2', reasons: [{ kind: 'no-previous-result' }], time },
  { kind: 'step-progress', step: 'embed', done: 1, total: 2, unit: 'shards', time },
  {
    kind: 'step-finished',
    step: 'embed',
    key: 'k2',
    durationMs: 1500,
    summary: { rows: 10 },
    outputs: ['embeddings'],
    external: ['out/v.lancedb'],
    time,
  },
  { kind: 'run-finished', status: 'ok', durationMs: 2000, time },
];

function feed(sink: RunEventSink, list: readonly RunEvent[] = events): void {
  for (const event of list) sink.onEvent(event);
}

describe('plainSink', () => {
  it('writes one line per event a person reads and skips progress', async () => {
    const out: string[] = [];
    const sink = plainSink((text) => out.push(text));
    feed(sink);
    await sink.close();
    expect(out.join('')).toMatchInlineSnapshot(`
      "run r1: demo (2 steps)
        cached    source
        run       embed: no previous result
        done      embed in 1.5s (rows=10) -> out/v.lancedb
      ok in 2.0s
      "
    `);
  });
});

describe('jsonLinesSink', () => {
  it('writes every event as one JSON line that parses back to the same event', () => {
    const out: string[] = [];
    feed(jsonLinesSink((text) => out.push(text)));
    expect(out.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(out.map((line) => JSON.parse(line) as RunEvent)).toEqual(events);
  });
});

describe('journalSink', () => {
  it('appends each event as a JSON line', () => {
    const lines: string[] = [];
    feed(
      journalSink(
        (line) => lines.push(line),
        () => expect.unreachable('no failure'),
      ),
    );
    expect(lines.map((line) => JSON.parse(line) as RunEvent)).toEqual(events);
  });

  it('reports the first failed write once and keeps trying later events', () => {
    const failures: Error[] = [];
    const lines: string[] = [];
    let full = true;
    const sink = journalSink(
      (line) => {
        if (full) throw new Error('ENOSPC: no space left on device');
        lines.push(line);
      },
      (error) => failures.push(error),
    );
    feed(sink, events.slice(0, 3));
    full = false;
    feed(sink, events.slice(3));
    expect(failures.map((e) => e.message)).toEqual(['ENOSPC: no space left on device']);
    expect(lines.map((line) => (JSON.parse(line) as RunEvent).kind)).toEqual(['step-progress', 'step-finished', 'run-finished']);
  });
});

describe('combineSinks', () => {
  it('hands each event to every sink in order and closes them in order', async () => {
    const seen: string[] = [];
    const recorder = (name: string): RunEventSink => ({
      onEvent: (event) => void seen.push(`${name}:${event.kind}`),
      close: async () => void seen.push(`${name}:closed`),
    });
    const sink = combineSinks([recorder('journal'), recorder('view')]);
    feed(sink, events.slice(0, 2));
    await sink.close();
    expect(seen).toEqual([
      'journal:run-started',
      'view:run-started',
      'journal:step-cached',
      'view:step-cached',
      'journal:closed',
      'view:closed',
    ]);
  });
});
