// `strand run` as a child process, killed with SIGKILL mid-step at a known shard, then run again.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { gatedPluginSource, gatedWorkflow } from '../helpers/gated-plugin.js';
import { copyFromRepo, exited, removeProjects, runCli, startCli, waitFor, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

function project(): string {
  const root = writeProject({ 'flow.yaml': gatedWorkflow(4), 'plugins/gated-sum.mjs': gatedPluginSource() });
  copyFromRepo(root, 'workflows/data/sample.parquet');
  return root;
}

function journals(root: string): RunEvent[][] {
  const runs = join(root, '.strand', 'runs');
  return listRuns(runs).map((id) => readJournal(journalPath(runs, id)));
}

const units = (events: RunEvent[], kind: 'shard-done' | 'shard-resumed', step: string) =>
  events.filter((e) => e.kind === kind && e.step === step).map((e) => (e as { unit: string }).unit);

describe('crash-safe resume', () => {
  it('resumes after SIGKILL from the last completed shard, with outputs equal to an uninterrupted run', async () => {
    const reference = project();
    writeFileSync(join(reference, 'release.flag'), '');
    expect(runCli(['run', 'flow.yaml'], reference).status).toBe(0);

    const root = project();
    const child = startCli(['run', 'flow.yaml'], root);
    await waitFor(
      () => (journals(root)[0] ?? []).some((e) => e.kind === 'shard-done' && e.step === 'sums' && e.unit === 'output:embeddings:4'),
      'shard 4 of sums',
    );
    child.kill('SIGKILL');
    await exited(child);
    expect(existsSync(join(root, 'out', 'sums.parquet'))).toBe(false);

    // Garbage collection (the first to take the lock: the dead process's lock is recovered) keeps the
    // completed shards of the interrupted step.
    const gc = runCli(['cache', 'gc'], root);
    expect(gc.status).toBe(0);
    expect(gc.stderr).toContain('recovered a lock left by pid');
    writeFileSync(join(root, 'release.flag'), '');
    const resumed = runCli(['run', 'flow.yaml', '--json'], root);
    expect(resumed.status).toBe(0);
    const [killed, second] = journals(root);
    expect(units(killed!, 'shard-done', 'sums')).toEqual([0, 1, 2, 3, 4].map((i) => `output:embeddings:${i}`));
    expect(units(second!, 'shard-resumed', 'sums')).toEqual([0, 1, 2, 3, 4].map((i) => `output:embeddings:${i}`));
    expect(units(second!, 'shard-done', 'sums')).toEqual([5, 6, 7, 8, 9].map((i) => `output:embeddings:${i}`));
    expect(second!.filter((e) => e.kind === 'step-cached').map((e) => (e as { step: string }).step)).toEqual(['source', 'tokens']);
    expect(readFileSync(join(root, 'out', 'sums.parquet')).equals(readFileSync(join(reference, 'out', 'sums.parquet')))).toBe(true);
  });

  it('refuses a second run on the same state directory, naming the holder', async () => {
    const root = project();
    const child = startCli(['run', 'flow.yaml'], root);
    await waitFor(
      () => (journals(root)[0] ?? []).some((e) => e.kind === 'shard-done' && e.step === 'sums' && e.unit === 'output:embeddings:4'),
      'the first run to block',
    );
    const second = runCli(['run', 'flow.yaml'], root);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`is in use by pid ${child.pid} .*strand run flow.yaml`));
    child.kill('SIGKILL');
    await exited(child);
  });

  it('stops gracefully on SIGINT, keeping completed shards', async () => {
    const root = project();
    const child = startCli(['run', 'flow.yaml'], root);
    await waitFor(
      () => (journals(root)[0] ?? []).some((e) => e.kind === 'shard-done' && e.step === 'sums' && e.unit === 'output:embeddings:4'),
      'shard 4 of sums',
    );
    child.kill('SIGINT');
    expect(await exited(child)).toBe(130);
    const stopped = journals(root)[0]!;
    expect(stopped.map((e) => e.kind)).toContain('step-interrupted');
    expect(stopped[stopped.length - 1]).toMatchObject({ kind: 'run-finished', status: 'interrupted' });
    writeFileSync(join(root, 'release.flag'), '');
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    expect(units(journals(root)[1]!, 'shard-resumed', 'sums')).toHaveLength(5);
  });
});
