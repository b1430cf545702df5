// Owns the watch loop: re-check, re-plan and re-run a workflow when its files change. An explicit
// state machine; file events, timers, loading and running reach it through `WatchDeps`.
//
//            change                   debounce elapsed                    nothing to run
//   idle ───────────► debouncing ─────────────────────► checking ───────────────────────────► idle
//    ▲                  │  ▲ change: restart the timer     │  invalid: show diagnostics, keep the
//    │                  └──┘                               │  last good plan ──────────────► idle
//    │  run ended, no change waiting                       │  steps to run
//    └───────────────────────────────────────────── running ◄┘
//                                                    │  change: debounce, then check; if a running
//                                                    │  step is now stale, stop the run gracefully
//                                                    │  (its completed shards are kept); when the run
//                                                    ▼  ends, check again
//                                          running + change waiting
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PlanEntry } from '../plan/plan-run.js';

export type WatchState = 'idle' | 'debouncing' | 'checking' | 'running';

/** What the loop tells its view: a change seen, a file that no longer checks, a plan, steps made stale. */
export type WatchReport =
  | { kind: 'invalid'; diagnostics: Diagnostic[] }
  | { kind: 'plan'; entries: PlanEntry[] }
  | { kind: 'stale'; steps: string[] }
  | { kind: 'change'; file: string };

/** What the loop needs from the outside; `W` is what loading gives (a checked workflow). */
export interface WatchDeps<W> {
  load(): Promise<{ workflow?: W; diagnostics: Diagnostic[] }>;
  plan(workflow: W): PlanEntry[];
  /** Runs the workflow until done or `signal` aborts; resolves when the run has stopped. */
  run(workflow: W, signal: AbortSignal, onStepStarted: (step: string, key: string) => void): Promise<string>;
  /** The files to watch for this workflow (the workflow, its inputs, models, plugins, recipes). */
  filesOf(workflow: W | undefined): string[];
  watch(files: string[]): void;
  report(message: WatchReport): void;
  setTimer(ms: number, fire: () => void): () => void;
}

export class WatchLoop<W> {
  state: WatchState = 'idle';
  private cancelTimer: (() => void) | undefined;
  private changeWaiting = false;
  private lastGood: W | undefined;
  private running: { controller: AbortController; keys: Map<string, string>; done: Promise<void> } | undefined;
  private closed = false;

  constructor(
    private readonly deps: WatchDeps<W>,
    private readonly debounceMs = 150,
  ) {}

  /** The first check and run. */
  async start(): Promise<void> {
    await this.check();
  }

  /** A file changed (editors send several events per save: they are coalesced). */
  changed(file: string): void {
    if (this.closed) return;
    this.deps.report({ kind: 'change', file });
    this.cancelTimer?.();
    if (this.state === 'idle') this.state = 'debouncing';
    this.cancelTimer = this.deps.setTimer(this.debounceMs, () => {
      this.cancelTimer = undefined;
      if (this.state === 'running') void this.checkWhileRunning();
      else void this.check();
    });
  }

  /** Stops the loop: a running run is stopped gracefully and awaited. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.running?.controller.abort();
    await this.running?.done;
  }

  private async check(): Promise<void> {
    if (this.closed) return;
    this.state = 'checking';
    const loaded = await this.deps.load();
    if (loaded.workflow === undefined) {
      this.deps.report({ kind: 'invalid', diagnostics: loaded.diagnostics });
      this.deps.watch(this.deps.filesOf(this.lastGood));
      this.state = 'idle';
      return;
    }
    this.lastGood = loaded.workflow;
    this.deps.watch(this.deps.filesOf(loaded.workflow));
    const entries = this.deps.plan(loaded.workflow);
    this.deps.report({ kind: 'plan', entries });
    if (entries.every((e) => e.decision.status === 'cached')) {
      this.state = 'idle';
      return;
    }
    this.startRun(loaded.workflow);
  }

  private startRun(workflow: W): void {
    this.state = 'running';
    const controller = new AbortController();
    const keys = new Map<string, string>();
    const done = this.deps
      .run(workflow, controller.signal, (step, key) => keys.set(step, key))
      .then(() => {
        this.running = undefined;
        this.state = 'idle';
        if (this.changeWaiting && !this.closed) {
          this.changeWaiting = false;
          return this.check();
        }
      });
    this.running = { controller, keys, done };
  }

  /** A change while running: stop only if a step that is running (or done in this run) went stale. */
  private async checkWhileRunning(): Promise<void> {
    const running = this.running;
    if (running === undefined) return this.check();
    this.changeWaiting = true;
    const loaded = await this.deps.load();
    if (loaded.workflow === undefined) {
      this.changeWaiting = false;
      this.deps.report({ kind: 'invalid', diagnostics: loaded.diagnostics });
      return;
    }
    const entries = this.deps.plan(loaded.workflow);
    const stale = [...running.keys].filter(([step, key]) => {
      const entry = entries.find((e) => e.step === step);
      return entry === undefined || entry.decision.key !== key;
    });
    const startedSteps = new Set(running.keys.keys());
    const removedOrChanged = stale.filter(([step]) => startedSteps.has(step)).map(([step]) => step);
    if (removedOrChanged.length > 0) {
      this.deps.report({ kind: 'stale', steps: removedOrChanged });
      running.controller.abort();
    }
  }
}
