// Crash-resume soak: the full pipeline (Parquet -> NT tokens -> ONNX -> LanceDB, 10 shards) as a child
// process, stopped at seeded random moments by SIGKILL (or SIGINT), resumed each time until it
// completes; and a run that fills its disk. Each ends with a table equal to an uninterrupted run's,
// a store that verifies clean, and no completed shard computed twice. STRAND_SOAK_KILLS=300 for the long run.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { seededRandom } from '../../steps/seeded-random.js';
import { copyFromRepo, exited, removeProjects, runCli, startCli, writeProject } from '../helpers/project.js';

const KILLS = Number(process.env.STRAND_SOAK_KILLS ?? 5);

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
  const rows = (await table.query().select(['id', 'vector', 'genus']).toArray()).map((r: { id: string; vector: ArrayLike<number>; genus: unknown }) => ({ id: r.id, vector: Array.from(r.vector), genus: r.genus }));
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

beforeAll(async () => {
  const root = project();
  expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
  reference = await tableRows(root);
});
afterAll(removeProjects);

async function soak(signal: 'SIGKILL' | 'SIGINT', seed: number): Promise<{ root: string; stops: number }> {
  const root = project();
  const next = seededRandom(seed);
  let stops = 0;
  for (;;) {
    const child = startCli(['run', 'flow.yaml'], root);
    if (stops < KILLS) {
      const delay = 100 + next() * 1500;
      const timer = setTimeout(() => child.kill(signal), delay);
      const code = await exited(child);
      clearTimeout(timer);
      if (code === 0) break;
      stops++;
    } else {
      expect(await exited(child)).toBe(0);
      break;
    }
  }
  return { root, stops };
}

describe('crash-resume soak', () => {
  it(`survives ${KILLS} SIGKILLs at random moments`, async () => {
    const { root, stops } = await soak('SIGKILL', 11);
    expect(stops).toBeGreaterThan(0);
    await expectLikeReference(root, reference);
  });

  it(`survives ${KILLS} Ctrl-C (SIGINT) stops at random moments`, async () => {
    const { root, stops } = await soak('SIGINT', 23);
    expect(stops).toBeGreaterThan(0);
    await expectLikeReference(root, reference);
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
