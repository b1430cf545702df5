// Owns holding a state directory for runs: `strand run` and `strand watch` take its lock the same
// way and, when another process holds it, refuse with the same message naming that process.
import { acquireStateLock } from '../store/state-lock.js';
import type { StrandState } from '../store/strand-state.js';
import { fail, ok, type Result } from '../util/result.js';

export interface HeldState {
  state: StrandState;
  release(): void;
  /** Set when a lock left by a process that no longer runs was taken over. */
  note?: string;
}

export function holdState(state: StrandState, command: string, now: Date): Result<HeldState, string> {
  const lock = acquireStateLock(state.layout.lock, command, now);
  if (!lock.acquired) {
    const h = lock.holder;
    return fail(
      `error: state directory ${state.layout.root} is in use by pid ${h.pid} on ${h.host} (${h.command}, started ${h.startedAt})\nhint: wait for that run to finish, stop it, or use another --state-dir`,
    );
  }
  const held: HeldState = { state, release: lock.release };
  if (lock.recovered) held.note = `note: recovered a lock left by pid ${lock.recovered.pid} (no longer running)`;
  return ok(held);
}
