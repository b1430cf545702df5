// The executor on a real state directory, with step plugins written against the public API.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { arrow, defineStep, StepError, type StepPlugin } from '../../engine/index.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import { planRun } from '../../engine/plan/plan-run.js';
import { describeReason } from '../../engine/plan/rerun-reason.js';
import type { ArtifactManifest } from '../../engine/plan/step-record.js';
import { runWorkflow } from '../../engine/run/run-workflow.js';
import { StrandState } from '../../engine/store/strand-state.js';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { yamlSource } from '../helpers/fake-source.js';
import { removeProjects, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const produced: string[] = [];
let abortAfterShard: { index: number; controller: AbortController } | undefined;

const numbers = defineStep<{ shards: number; rows: number }>({
  id: 'test/numbers',
  version: '1',
  description: 'shards of numbers',
  with: { properties: { shards: { type: 'integer' }, rows: { type: 'integer' } } },
  inputs: {},
  outputs: { numbers: { type: 'numbers' } },
  async run(ctx) {
    for (let i = 0; i < ctx.params.shards; i++) {
      await ctx.output('numbers').shard(i, async () => {
        produced.push(`numbers:${i}`);
        const values = Float64Array.from({ length: ctx.params.rows }, (_, r) => i * 1000 + r);
        return new arrow.Table({ value: arrow.vectorFromArray(values) });
      });
      if (abortAfterShard?.index === i) abortAfterShard.controller.abort();
    }
    return { shards: ctx.params.shards };
  },
});

const scale = defineStep<{ factor: number }>({
  id: 'test/scale',
  version: '1',
  description: 'multiplies',
  with: { properties: { factor: { type: 'number' } } },
  inputs: { numbers: { type: 'numbers' } },
  outputs: { numbers: { type: 'numbers' } },
  async run(ctx) {
    const input = ctx.input('numbers');
    for (let i = 0; i < input.shardCount; i++) {
      await ctx.output('numbers').shard(i, async () => {
        produced.push(`scale:${i}`);
        const values = (await input.readShard(i)).getChild('value')!.toArray() as Float64Array;
        if (ctx.params.factor < 0) throw new StepError('factor must not be negative', 'use a factor >= 0');
        return new arrow.Table({ value: arrow.vectorFromArray(values.map((v) => v * ctx.params.factor)) });
      });
    }
  },
});

const PLUGINS = new Map<string, StepPlugin>([numbers, scale].map((p) => [p.id, p]));

function flow(shards: number, factor: number): string {
  return `version: 1
name: numbers
steps:
  gen: { uses: test/numbers, with: { shards: ${shards}, rows: 5 } }
  big: { uses: test/scale, needs: [gen], with: { factor: ${factor} } }
`;
}

async function run(root: string, text: string, controller = new AbortController()) {
  const { workflow, diagnostics } = checkWorkflow({ source: yamlSource(text), plugins: PLUGINS });
  expect(diagnostics).toEqual([]);
  const state = new StrandState(join(root, '.strand'), root);
  const events: RunEvent[] = [];
  let tick = 0;
  const status = await runWorkflow({
    workflow: workflow!,
    state,
    emit: (e) => events.push(e),
    signal: controller.signal,
    jobs: 2,
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)),
    runId: `run-${tick}`,
  });
  return { status, events, state, workflow: workflow! };
}

const kinds = (events: RunEvent[]) =>
  events.filter((e) => e.kind !== 'step-progress').map((e) => ('step' in e ? `${e.kind}:${e.step}` : e.kind));

async function outputValues(state: StrandState, manifest: string): Promise<number[]> {
  const m = state.objects.getJson<ArtifactManifest>(manifest as never);
  return m.shards.flatMap((s) => Array.from(arrow.tableFromIPC(state.objects.get(s.digest)).getChild('value')!.toArray() as Float64Array));
}

describe('runWorkflow', () => {
  it('runs, then finds everything cached', async () => {
    const root = writeProject({});
    produced.length = 0;
    const first = await run(root, flow(3, 2));
    expect(first.status).toBe('ok');
    expect(produced).toEqual(['numbers:0', 'numbers:1', 'numbers:2', 'scale:0', 'scale:1', 'scale:2']);
    const second = await run(root, flow(3, 2));
    expect(kinds(second.events)).toEqual(['run-started', 'step-cached:gen', 'step-cached:big', 'run-finished']);
    expect(produced).toHaveLength(6);
  });

  it('reruns only what a param change affects, and says why', async () => {
    const root = writeProject({});
    await run(root, flow(2, 2));
    produced.length = 0;
    const { state, workflow } = await run(root, flow(2, 2));
    expect(planRun(workflow, state).map((e) => e.decision.status)).toEqual(['cached', 'cached']);
    const changed = checkWorkflow({ source: yamlSource(flow(2, 3)), plugins: PLUGINS }).workflow!;
    const plan = planRun(changed, state);
    expect(plan.map((e) => e.decision.status)).toEqual(['cached', 'will-run']);
    expect(plan[1]!.decision.status === 'will-run' && plan[1]!.decision.reasons.map(describeReason)).toEqual([
      'params.factor changed 2 -> 3',
    ]);
    const rerun = await run(root, flow(2, 3));
    expect(produced).toEqual(['scale:0', 'scale:1']);
    expect(kinds(rerun.events)).toContain('step-cached:gen');
  });

  it('recomputes a step whose cached artifact is corrupt', async () => {
    const root = writeProject({});
    const first = await run(root, flow(2, 2));
    const finished = first.events.find((e) => e.kind === 'step-finished' && e.step === 'big')!;
    const record = first.state.record((finished as { key: string }).key as never)!;
    const manifest = first.state.objects.getJson<ArtifactManifest>(record.outputs.numbers!);
    const path = first.state.objects.pathOf(manifest.shards[1]!.digest);
    const bytes = readFileSync(path);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    writeFileSync(path, bytes);
    produced.length = 0;
    const second = await run(root, flow(2, 2));
    const started = second.events.find((e) => e.kind === 'step-started' && e.step === 'big');
    expect(started && 'reasons' in started && started.reasons[0]!.kind).toBe('corrupt-entry');
    expect(produced).toEqual(['scale:0', 'scale:1']);
    expect(await outputValues(second.state, second.state.record(record.key)!.outputs.numbers!)).toEqual([
      0, 2, 4, 6, 8, 2000, 2002, 2004, 2006, 2008,
    ]);
  });

  it('stops gracefully and resumes from the last completed shard', async () => {
    const root = writeProject({});
    produced.length = 0;
    const controller = new AbortController();
    abortAfterShard = { index: 1, controller };
    const stopped = await run(root, flow(4, 2), controller);
    abortAfterShard = undefined;
    expect(stopped.status).toBe('interrupted');
    expect(kinds(stopped.events)).toContain('step-interrupted:gen');
    expect(kinds(stopped.events)).toContain('step-blocked:big');
    expect(produced).toEqual(['numbers:0', 'numbers:1']);
    produced.length = 0;
    const resumed = await run(root, flow(4, 2));
    expect(resumed.status).toBe('ok');
    expect(produced).toEqual(['numbers:2', 'numbers:3', 'scale:0', 'scale:1', 'scale:2', 'scale:3']);
    expect(resumed.events.filter((e) => e.kind === 'shard-resumed').map((e) => (e as { unit: string }).unit)).toEqual([
      'output:numbers:0',
      'output:numbers:1',
    ]);
  });

  it('reports a failed step with its hint and blocks what depends on it', async () => {
    const root = writeProject({});
    const text = `${flow(1, -1)}  after: { uses: test/scale, needs: [big], with: { factor: 1 } }\n`;
    const { status, events, state } = await run(root, text);
    expect(status).toBe('failed');
    expect(events.find((e) => e.kind === 'step-failed')).toMatchObject({
      step: 'big',
      message: 'factor must not be negative',
      hint: 'use a factor >= 0',
    });
    expect(kinds(events)).toContain('step-blocked:after');
    expect(state.records().map((r) => r.step)).toEqual(['gen']);
  });
});
