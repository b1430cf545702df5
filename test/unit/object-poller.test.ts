// The gs:// poller of `strand watch` (engine/watch/object-poller.ts) with its timer and listing in the
// test's hands: a change is reported once per new listing, a failed listing is tried again, close stops it.
import { describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../../engine/util/sha256.js';
import { ObjectPoller } from '../../engine/watch/object-poller.js';

const D1 = '1'.repeat(64) as Sha256Hex;
const D2 = '2'.repeat(64) as Sha256Hex;
const URI = 'gs://b/its/*.parquet';

function harness(listings: Record<string, Sha256Hex | undefined | Error>) {
  const timers: { ms: number; fire: () => void; cancelled: boolean }[] = [];
  const seen: string[] = [];
  const poller = new ObjectPoller(
    {
      digest: async (uri) => {
        const now = listings[uri];
        if (now instanceof Error) throw now;
        return now;
      },
      setTimer: (ms, fire) => {
        const timer = { ms, fire, cancelled: false };
        timers.push(timer);
        return () => (timer.cancelled = true);
      },
      onChange: (uri) => seen.push(`changed ${uri}`),
      onError: (uri, error) => seen.push(`error ${uri}: ${error.message}`),
    },
    60_000,
  );
  /** Fires the pending timer and lets the poll finish. */
  const tick = async (): Promise<void> => {
    const pending = timers.filter((t) => !t.cancelled);
    expect(pending).toHaveLength(1);
    pending[0]!.cancelled = true;
    pending[0]!.fire();
    await new Promise((r) => setImmediate(r));
  };
  return { poller, timers, seen, tick, listings };
}

describe('ObjectPoller', () => {
  it('reports a path whose listing changed, once, until a load plans with the new listing', async () => {
    const h = harness({ [URI]: D1 });
    h.poller.set(new Map([[URI, D1]]));
    expect(h.timers.map((t) => t.ms)).toEqual([60_000]);
    await h.tick();
    expect(h.seen).toEqual([]);
    h.listings[URI] = D2;
    await h.tick();
    await h.tick();
    expect(h.seen).toEqual([`changed ${URI}`]);
    h.poller.set(new Map([[URI, D2]])); // the load after the change
    await h.tick();
    expect(h.seen).toEqual([`changed ${URI}`]);
  });

  it('reports a path that no longer names anything', async () => {
    const h = harness({ [URI]: undefined });
    h.poller.set(new Map([[URI, D1]]));
    await h.tick();
    expect(h.seen).toEqual([`changed ${URI}`]);
  });

  it('tries a listing that failed again at the next interval', async () => {
    const h = harness({ [URI]: new Error('HTTP 503') });
    h.poller.set(new Map([[URI, D1]]));
    await h.tick();
    h.listings[URI] = D2;
    await h.tick();
    expect(h.seen).toEqual([`error ${URI}: HTTP 503`, `changed ${URI}`]);
  });

  it('polls nothing without gs:// inputs, and nothing after close', async () => {
    const h = harness({ [URI]: D2 });
    h.poller.set(new Map());
    expect(h.timers).toEqual([]);
    h.poller.set(new Map([[URI, D1]]));
    h.poller.close();
    expect(h.timers.every((t) => t.cancelled)).toBe(true);
    expect(h.seen).toEqual([]);
  });
});
