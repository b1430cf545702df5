// `strand watch` as a child process, with the workflow edited on disk the way editors save.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { GcsServer } from '../emulators/gcs-server.js';
import { copyFromRepo, exited, REPO, removeProjects, runCli, startCli, waitFor, writeProject } from '../helpers/project.js';

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

/** The runs' journals of a project, and a condition: at least n runs have finished. */
function journals(root: string) {
  const runs = (): RunEvent[][] =>
    listRuns(join(root, '.strand/runs')).map((id) => readJournal(journalPath(join(root, '.strand/runs'), id)));
  const finished = (n: number) => () => runs().filter((r) => r.some((e) => e.kind === 'run-finished')).length >= n;
  return { runs, finished };
}

/** A project with flow(k) reading the shipped sample. */
function sampleProject(k: number): string {
  const root = writeProject({ 'flow.yaml': flow(k) });
  copyFromRepo(root, 'workflows/data/sample.parquet');
  renameSync(join(root, 'workflows/data/sample.parquet'), join(root, 'data.parquet'));
  return root;
}

const started = (events: RunEvent[]) => events.filter((e) => e.kind === 'step-started').map((e) => (e as { step: string }).step);

describe('strand watch', () => {
  it('re-runs only affected steps on an edit and keeps the last good plan on an invalid one', async () => {
    const root = writeProject({ 'flow.yaml': flow(3) });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    renameSync(join(root, 'workflows/data/sample.parquet'), join(root, 'data.parquet'));
    const child = startCli(['watch', 'flow.yaml'], root);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const { runs, finished } = journals(root);

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

  it('notices a gs:// input replaced in its bucket by polling its generation, and re-runs what that changes', async () => {
    const gcs = await new GcsServer().start();
    try {
      gcs.createBucket('strand-data');
      const sample = readFileSync(join(REPO, 'workflows/data/sample.parquet'));
      const put = () => gcs.put('strand-data', 'its/a.parquet', sample, 'application/octet-stream', {}, null);
      put();
      const root = writeProject({ 'flow.yaml': flow(3).replace('path: data.parquet', 'path: gs://strand-data/its/a.parquet') });
      const child = startCli(['watch', 'flow.yaml', '--poll-gcs', '1'], root, gcs.clientEnv());
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const { runs, finished } = journals(root);
      await waitFor(finished(1), 'the first run');
      expect(started(runs()[0]!)).toEqual(['source', 'profile', 'table']);

      // The same bytes as a new generation: the source's key changes; what it produces does not.
      put();
      await waitFor(finished(2), 'the run after the object changed');
      expect(out).toContain('changed: gs://strand-data/its/a.parquet');
      expect(out).toMatch(
        /will run: source \(input file path changed: changed gs:\/\/strand-data\/its\/a\.parquet \(generation \d+ -> \d+\)\)/,
      );
      expect(started(runs()[1]!)).toEqual(['source']);

      child.kill('SIGINT');
      expect(await exited(child)).toBe(0);
    } finally {
      await gcs.stop();
    }
  });

  it('writes JSON lines with --json: the run events as strand run --json writes them, and its own watch-* reports', async () => {
    const root = sampleProject(3);
    const child = startCli(['watch', 'flow.yaml', '--json'], root);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const { finished } = journals(root);
    await waitFor(finished(1), 'the first run');
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);

    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string });
    const plan = lines.find((l) => l.kind === 'watch-plan');
    expect(plan).toMatchObject({
      steps: [
        { step: 'source', status: 'will-run' },
        { step: 'profile', status: 'will-run' },
        { step: 'table', status: 'will-run' },
      ],
    });
    expect(lines.filter((l) => l.kind === 'step-started').map((l) => (l as { step?: string }).step)).toEqual([
      'source',
      'profile',
      'table',
    ]);
    expect(lines.some((l) => l.kind === 'run-finished')).toBe(true);
    expect(lines).toContainEqual({ kind: 'watch-note', message: 'stopping…' });
  });

  it('writes text with --plain, as strand run --plain does', async () => {
    const root = sampleProject(3);
    const child = startCli(['watch', 'flow.yaml', '--plain'], root);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(journals(root).finished(1), 'the first run');
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
    expect(out).toContain('will run: source (');
    expect(out).toMatch(/done +table/);
  });

  it.each([['watch'], ['run']])('refuses --json with --plain in %s, as a usage error', (command) => {
    const root = writeProject({ 'flow.yaml': flow(3) });
    const result = runCli([command, 'flow.yaml', '--json', '--plain'], root);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('error: --json and --plain cannot be given together');
  });
});
