// Owns noticing that a workflow's gs:// inputs changed when no local event says so: Cloud Storage sends
// none, so every `intervalMs` the poller lists each watched path again (the listing digest of generations,
// sizes and checksums, as the cache key sees it) and reports a path whose listing differs from the one the
// last load planned with. It is one more source of `changed(path)` for the watch loop, beside the file
// watcher; listing and timers are injected. One poll at a time: the next is scheduled when one ends.
import type { Sha256Hex } from '../util/sha256.js';

export interface ObjectPollerDeps {
  /** The listing digest of a gs:// path now; undefined when it names nothing. */
  digest(uri: string): Promise<Sha256Hex | undefined>;
  setTimer(ms: number, fire: () => void): () => void;
  onChange(uri: string): void;
  /** A poll that failed (it is tried again at the next interval). */
  onError(uri: string, error: Error): void;
}

export class ObjectPoller {
  private planned = new Map<string, Sha256Hex | undefined>();
  private cancel: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly deps: ObjectPollerDeps,
    private readonly intervalMs: number,
  ) {}

  /** Watches these paths against the digests the last load planned with (replacing what was watched). */
  set(planned: ReadonlyMap<string, Sha256Hex | undefined>): void {
    this.planned = new Map(planned);
    if (this.planned.size > 0 && this.cancel === undefined && !this.closed) this.schedule();
  }

  close(): void {
    this.closed = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  private schedule(): void {
    this.cancel = this.deps.setTimer(this.intervalMs, () => void this.poll());
  }

  private async poll(): Promise<void> {
    for (const [uri, digest] of this.planned) {
      if (this.closed) return;
      try {
        const now = await this.deps.digest(uri);
        // Seen once until a load plans with the new listing (set() replaces `planned`).
        if (now !== digest && this.planned.get(uri) === digest) {
          this.planned.set(uri, now);
          this.deps.onChange(uri);
        }
      } catch (error) {
        this.deps.onError(uri, error as Error);
      }
    }
    this.cancel = undefined;
    if (!this.closed && this.planned.size > 0) this.schedule();
  }
}
