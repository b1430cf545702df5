// Crash-resume soak: the full pipeline (Parquet -> NT tokens -> ONNX -> LanceDB, 10 shards) as a child
// process, stopped by SIGKILL (or SIGINT) at known lines of its journal — after a shard's line, between a
// shard's durable checkpoint and its line, between a step's committed record and its line, before the
// run's last line — and resumed each time until it completes; and a run that fills its disk. Each ends
// with a table equal to an uninterrupted run's, a store that verifies clean, and no completed shard
// computed twice. STRAND_SOAK_EVERY_POINT=1 for the long run: a SIGKILL before and after every line of
// an uninterrupted run's journal, each in a fresh project.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { isEvent, killAt, type EventMatch, type KillPoint } from '../helpers/journal-gate.js';
import { copyFromRepo, exited, removeProjects, runCli, startCli, writeProject } from '../helpers/project.js';

const EVERY_POINT = process.env.STRAND_SOAK_EVERY_POINT === '1';

const FLOW = `version: 1
name: soak
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 100 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  embed: { uses: embed/onnx, needs: [tokens], with: { model: models/tiny-nt.onnx, threads: 1 } }
  vectors: { uses: export/lancedb, needs: [embed, source], with: { uri: out/soak.lancedb, table: sequences } }
`;

function project(): string {
  const root = writeProject({ 'flow.yaml': FLOW });
  copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
  return root;
}

async function tableRows(root: string): Promise<{ id: string; vector: number[]; genus: unknown }[]> {
  const lancedb = await import('@lancedb/lancedb');
  const db = await lancedb.connect(join(root, 'out/soak.lancedb'));
  const table = await db.openTable('sequences');
  const rows = (await table.query().select(['id', 'vector', 'genus']).toArray()).map(
    (r: { id: string; vector: ArrayLike<number>; genus: unknown }) => ({ id: r.id, vector: Array.from(r.vector), genus: r.genus }),
  );
  table.close();
  db.close();
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

function journals(root: string): RunEvent[][] {
  const runs = join(root, '.strand/runs');
  return listRuns(runs).map((id) => readJournal(journalPath(runs, id)));
}

async function expectLikeReference(root: string, reference: Awaited<ReturnType<typeof tableRows>>): Promise<void> {
  const rows = await tableRows(root);
  expect(rows.length).toBe(1000);
  expect(new Set(rows.map((r) => r.id)).size).toBe(1000);
  expect(rows).toEqual(reference); // ids, metadata and every float bit for bit
  expect(runCli(['cache', 'verify'], root).status).toBe(0);
  const done = new Map<string, number>();
  const seen = new Set<string>();
  for (const run of journals(root)) {
    for (const e of run) {
      if (e.kind === 'shard-done') done.set(`${e.step}/${e.unit}`, (done.get(`${e.step}/${e.unit}`) ?? 0) + 1);
      if (e.kind === 'shard-done' || e.kind === 'shard-resumed') seen.add(`${e.step}/${e.unit}`);
    }
  }
  // No shard was computed twice; every one was computed (a kill between its durable checkpoint and its
  // journal line leaves it reported only as resumed).
  expect([...done].filter(([, n]) => n > 1)).toEqual([]);
  expect(seen.size).toBe(10 * 4 + 1); // 10 shards in each of 4 steps, and the index build
}

let reference: Awaited<ReturnType<typeof tableRows>>;
let referenceJournal: RunEvent[];

beforeAll(async () => {
  const root = project();
  expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
  reference = await tableRows(root);
  referenceJournal = journals(root)[0]!;
});
afterAll(removeProjects);

const kill = (at: EventMatch, when: KillPoint['when']): KillPoint => ({ at, when, signal: 'SIGKILL' });
const interrupt = (at: EventMatch): KillPoint => ({ at, when: 'after', signal: 'SIGINT' });

/** In pipeline order: each is still ahead of the run that follows the stop at the one before. */
const KILL_POINTS: KillPoint[] = [
  kill({ kind: 'shard-done', step: 'source', unit: 'output:sequences:3' }, 'after'),
  kill({ kind: 'shard-done', step: 'tokens', unit: 'output:tokens:6' }, 'before'), // checkpointed, not journaled
  kill({ kind: 'step-finished', step: 'tokens' }, 'before'), // record committed, not journaled
  kill({ kind: 'shard-done', step: 'embed', unit: 'output:embeddings:4' }, 'after'),
  kill({ kind: 'shard-done', step: 'vectors', unit: 'once:write-shard-7' }, 'before'), // rows in LanceDB, unit not journaled
  kill({ kind: 'shard-done', step: 'vectors', unit: 'once:indexes' }, 'before'),
  kill({ kind: 'run-finished' }, 'before'),
];

const INTERRUPT_POINTS: KillPoint[] = [
  interrupt({ kind: 'shard-done', step: 'source', unit: 'output:sequences:3' }),
  interrupt({ kind: 'step-started', step: 'embed' }),
  interrupt({ kind: 'shard-done', step: 'embed', unit: 'output:embeddings:6' }),
  interrupt({ kind: 'shard-done', step: 'vectors', unit: 'once:write-shard-2' }),
];

/** A SIGKILL just before and just after each line of an uninterrupted run's journal. */
function everyPoint(events: RunEvent[]): KillPoint[] {
  const identity = ['kind', 'step', 'unit', 'message', 'done', 'status'];
  return events.flatMap((e) => {
    const at = Object.fromEntries(Object.entries(e).filter(([k]) => identity.includes(k))) as EventMatch;
    return [kill(at, 'before'), kill(at, 'after')];
  });
}

/** Runs the pipeline in one project, stopped at each point in turn, then once to completion. */
async function soak(points: readonly KillPoint[]): Promise<string> {
  const root = project();
  for (const point of points) {
    const earlier = journals(root).length;
    const child = startCli(['run', 'flow.yaml'], root, killAt(root, point));
    const code = await exited(child);
    const stopped = journals(root).slice(earlier)[0] ?? []; // none when stopped before its first line
    if (point.signal === 'SIGKILL') {
      expect(child.signalCode).toBe('SIGKILL');
      if (point.when === 'after') expect(isEvent(stopped.at(-1)!, point.at)).toBe(true);
      else expect(stopped.filter((e) => isEvent(e, point.at))).toEqual([]);
    } else {
      expect(code).toBe(130);
      expect(stopped.filter((e) => isEvent(e, point.at))).toHaveLength(1);
      expect(stopped.at(-1)).toMatchObject({ kind: 'run-finished', status: 'interrupted' });
    }
  }
  expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
  return root;
}

describe('crash-resume soak', () => {
  it(
    `survives SIGKILL at ${EVERY_POINT ? 'every line of the journal' : `${KILL_POINTS.length} known points`}`,
    async () => {
      for (const points of EVERY_POINT ? everyPoint(referenceJournal).map((p) => [p]) : [KILL_POINTS]) {
        await expectLikeReference(await soak(points), reference);
      }
    },
    EVERY_POINT ? 3_600_000 : undefined,
  );

  it(`survives ${INTERRUPT_POINTS.length} Ctrl-C (SIGINT) stops at known points`, async () => {
    await expectLikeReference(await soak(INTERRUPT_POINTS), reference);
  });

  it('resumes an export whose shard reached LanceDB but not the checkpoint log, without duplicating a row', async () => {
    // The state a crash leaves between LanceDB's commit of shard 4 and the line that records it, which no
    // journal line marks: a table with shards 0-4, a checkpoint log with shards 0-3, no step record.
    const root = project();
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    const steps = join(root, '.strand/steps');
    const key = readdirSync(steps).find((f) => (JSON.parse(readFileSync(join(steps, f), 'utf8')) as { step: string }).step === 'vectors')!;
    rmSync(join(steps, key));
    const units = [0, 1, 2, 3].map((i) => JSON.stringify({ unit: `once:write-shard-${i}` }));
    writeFileSync(join(root, '.strand/checkpoints', `${key.replace('.json', '')}.jsonl`), units.join('\n') + '\n');
    const lancedb = await import('@lancedb/lancedb');
    const db = await lancedb.connect(join(root, 'out/soak.lancedb'));
    const table = await db.openTable('sequences');
    const ids = (await table.query().select(['id']).toArray()).map((r: { id: string }) => r.id);
    const later = ids.slice(500).map((id) => `'${id.replaceAll("'", "''")}'`);
    await table.delete(`id IN (${later.join(', ')})`);
    expect(await table.countRows()).toBe(500);
    table.close();
    db.close();

    const resumed = runCli(['run', 'flow.yaml', '--json'], root);
    expect(resumed.status).toBe(0);
    const second = journals(root)[1]!;
    const vectorUnits = (kind: string) =>
      second.filter((e) => e.kind === kind && 'step' in e && e.step === 'vectors').map((e) => (e as { unit: string }).unit);
    expect(vectorUnits('shard-resumed')).toEqual([0, 1, 2, 3].map((i) => `once:write-shard-${i}`));
    expect(vectorUnits('shard-done')).toEqual([...[4, 5, 6, 7, 8, 9].map((i) => `once:write-shard-${i}`), 'once:indexes']);
    expect(await tableRows(root)).toEqual(reference); // shard 4 merged on id, not appended twice
  });

  it('stops cleanly on a full disk and completes once there is room', async () => {
    const root = project();
    const state = join(root, 'state');
    mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=700k', 'tmpfs', state]);
    try {
      const full = runCli(['run', 'flow.yaml', '--state-dir', 'state'], root);
      expect(full.status).toBe(1);
      expect(full.stdout + full.stderr).toMatch(/ENOSPC|no space left on device/i);
      expect(full.stderr).not.toContain('internal-error');
      expect(runCli(['cache', 'verify', '--state-dir', 'state'], root).status).toBe(0);
      execFileSync('mount', ['-o', 'remount,size=64m', state]);
      const resumed = runCli(['run', 'flow.yaml', '--state-dir', 'state'], root);
      expect(resumed.status).toBe(0);
      const rows = await tableRows(root);
      expect(rows).toEqual(reference);
    } finally {
      execFileSync('umount', [state]);
    }
  });
});
