// startRun and holdState on a real state directory: the journal and the view get the same redacted
// events, an unwritable journal stops the run with a message, and the lock refuses a second holder.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineStep } from '../../engine/index.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import type { RunEventSink } from '../../engine/events/run-event-sink.js';
import { holdState, type HeldState } from '../../engine/run/hold-state.js';
import { journalPath, listRuns, newRunId, readJournal } from '../../engine/run/journal.js';
import { startRun } from '../../engine/run/start-run.js';
import { StrandState } from '../../engine/store/strand-state.js';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import type { Workflow } from '../../engine/workflow/workflow.js';
import { yamlSource } from '../helpers/fake-source.js';
import { removeProjects, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const secret = 'hf_SeCrEt_7f3a9b';
const greet = defineStep<{ greeting: string }>({
  id: 'test/greet',
  version: '1',
  description: 'logs its greeting',
  with: { properties: { greeting: { type: 'string' } } },
  inputs: {},
  outputs: {},
  async run(ctx) {
    ctx.log(`greeting ${ctx.params.greeting}`);
  },
});
const FLOW = `version: 1
name: greet
params:
  token: { type: string, secret: true, env: TOKEN }
steps:
  hello: { uses: test/greet, with: { greeting: "\${{ params.token }}" } }
`;
const NOW = new Date(Date.UTC(2026, 0, 1));

function setUp(): { root: string; state: StrandState; workflow: Workflow } {
  const root = writeProject({});
  const { workflow, diagnostics } = checkWorkflow({
    source: yamlSource(FLOW),
    plugins: new Map([[greet.id, greet]]),
    env: { TOKEN: secret },
  });
  expect(diagnostics).toEqual([]);
  return { root, state: new StrandState(join(root, '.strand'), root), workflow: workflow! };
}

function hold(state: StrandState): HeldState {
  const held = holdState(state, 'strand run flow.yaml', NOW);
  if (!held.ok) throw new Error(held.error);
  return held.value;
}

function collector(): { sink: RunEventSink; events: RunEvent[]; closed: () => boolean } {
  const events: RunEvent[] = [];
  let closed = false;
  return { sink: { onEvent: (e) => void events.push(e), close: async () => void (closed = true) }, events, closed: () => closed };
}

/** The one run every startRun test starts: no plans, no remote steps, one job, at NOW. */
function startGreet(held: HeldState, workflow: Workflow, view: RunEventSink): ReturnType<typeof startRun> {
  return startRun({
    plans: new Map(),
    report: false,
    held,
    workflow,
    remote: new Map(),
    view,
    signal: new AbortController().signal,
    jobs: 1,
    env: {},
    now: () => NOW,
  });
}

describe('startRun', () => {
  it('journals and shows the same events, redacted as values, and closes the view', async () => {
    const { state, workflow } = setUp();
    const held = hold(state);
    const view = collector();
    const run = await startGreet(held, workflow, view.sink);
    held.release();
    expect(run).toEqual({ ok: true, value: 'ok' });
    expect(view.closed()).toBe(true);
    expect(view.events.find((e) => e.kind === 'step-log')).toMatchObject({ message: 'greeting [redacted]' });
    const [runId] = listRuns(state.layout.runs);
    expect(runId).toBe(newRunId(NOW, process.pid));
    expect(readJournal(journalPath(state.layout.runs, runId!))).toEqual(view.events);
    expect(readFileSync(journalPath(state.layout.runs, runId!), 'utf8')).not.toContain(secret);
  });

  it('stops the run and says why when its journal cannot be written', async () => {
    const { state, workflow } = setUp();
    mkdirSync(journalPath(state.layout.runs, newRunId(NOW, process.pid)), { recursive: true }); // appending to a directory fails
    const held = hold(state);
    const view = collector();
    const run = await startGreet(held, workflow, view.sink);
    held.release();
    expect(run.ok).toBe(false);
    expect(!run.ok && run.error).toMatch(/^error: cannot write the run journal in .*runs: EISDIR.*\nhint: free space/);
    expect(view.events.map((e) => e.kind).filter((kind) => kind !== 'resource-sample')).toEqual([
      'run-planned',
      'run-started',
      'step-blocked',
      'run-finished',
    ]);
    expect(view.events.at(-1)).toMatchObject({ status: 'interrupted' });
    expect(view.closed()).toBe(true);
  });

  it('closes the view when the journal cannot even be opened', async () => {
    const { state, workflow } = setUp();
    const held = hold(state);
    writeFileSync(state.layout.runs, 'not a folder');
    const view = collector();
    await expect(startGreet(held, workflow, view.sink)).rejects.toThrow(/EEXIST|ENOTDIR/);
    held.release();
    expect(view.events).toEqual([]);
    expect(view.closed()).toBe(true);
  });
});

describe('holdState', () => {
  it('refuses a second holder, naming the pid, host, command and start of the first', () => {
    const { state } = setUp();
    const first = hold(state);
    const second = holdState(state, 'strand watch flow.yaml', new Date());
    expect(second).toEqual({
      ok: false,
      error: `error: state directory ${state.layout.root} is in use by pid ${process.pid} on ${hostname()} (strand run flow.yaml, started ${NOW.toISOString()})\nhint: wait for that run to finish, stop it, or use another --state-dir`,
    });
    first.release();
    expect(holdState(state, 'strand watch flow.yaml', new Date()).ok).toBe(true);
  });

  it('takes over a lock left by a process that no longer runs, with a note', () => {
    const { state } = setUp();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    mkdirSync(join(state.layout.lock, '..'), { recursive: true });
    writeFileSync(
      state.layout.lock,
      JSON.stringify({ pid: dead, host: hostname(), startedAt: NOW.toISOString(), command: 'strand run flow.yaml' }),
    );
    const held = hold(state);
    expect(held.note).toBe(`note: recovered a lock left by pid ${dead} (no longer running)`);
    held.release();
  });
});
