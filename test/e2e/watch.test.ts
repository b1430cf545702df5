// `strand watch` as a child process, with the workflow edited on disk the way editors save.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { copyFromRepo, exited, removeProjects, startCli, waitFor, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const flow = (k: number) => `version: 1
name: watched
steps:
  source: { uses: source/parquet, with: { path: data.parquet } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: ${k} } }
  table: { uses: export/parquet, needs: [profile, source], with: { path: out/t.parquet } }
`;

/** Saves like many editors: write a temporary file beside the target, then rename it over. */
function saveAtomically(path: string, text: string): void {
  writeFileSync(`${path}.swp`, text);
  renameSync(`${path}.swp`, path);
}

describe('strand watch', () => {
  it('re-runs only affected steps on an edit and keeps the last good plan on an invalid one', async () => {
    const root = writeProject({ 'flow.yaml': flow(3) });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    renameSync(join(root, 'workflows/data/sample.parquet'), join(root, 'data.parquet'));
    const child = startCli(['watch', 'flow.yaml'], root);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const runs = (): RunEvent[][] => listRuns(join(root, '.strand/runs')).map((id) => readJournal(journalPath(join(root, '.strand/runs'), id)));
    const finished = (n: number) => () => runs().filter((r) => r.some((e) => e.kind === 'run-finished')).length >= n;
    const started = (events: RunEvent[]) => events.filter((e) => e.kind === 'step-started').map((e) => (e as { step: string }).step);

    await waitFor(finished(1), 'the first run');
    expect(started(runs()[0]!)).toEqual(['source', 'profile', 'table']);

    saveAtomically(join(root, 'flow.yaml'), flow(4));
    await waitFor(finished(2), 'the run after the edit');
    expect(started(runs()[1]!)).toEqual(['profile', 'table']);
    expect(out).toContain('will run: profile (params.k changed 3 -> 4)');

    saveAtomically(join(root, 'flow.yaml'), flow(4).replace('needs: [source]', 'needs: [sauce]'));
    await waitFor(() => out.includes('keeping the last good plan'), 'the invalid edit to be reported');
    expect(out).toContain('flow.yaml:5:48: error: step "profile" needs "sauce", which is not a step');

    saveAtomically(join(root, 'flow.yaml'), flow(4));
    await waitFor(() => out.includes('everything is up to date'), 'the fixed file to be re-planned');
    expect(runs()).toHaveLength(2);

    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
  });
});
