// The README is the front door: its CLI reference is the --help text, and its plugin example runs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withCliReference } from '../../scripts/cli-reference.js';
import { copyFromRepo, REPO, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

describe('README', () => {
  it('runs `npx strand` after install with nothing on stderr (no npm config warning)', () => {
    const result = spawnSync('npx', ['strand', '--version'], { cwd: REPO, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('strand 0.1.0\n');
    expect(result.status).toBe(0);
  });

  it('has the CLI reference the command table generates (run `npm run docs` after changing a command)', async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(await withCliReference(readme)).toBe(readme);
  });

  it('shows the plugin example that workflows/gc-content.yaml runs', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const plugin = readFileSync(join(REPO, 'workflows/plugins/gc-content.mjs'), 'utf8');
    expect(readme).toContain(plugin.split('\n').slice(1).join('\n').trim());
  });

  it('runs the local plugin example through the public API', async () => {
    const root = writeProject({ 'package.json': JSON.stringify({ name: 'user-project', type: 'module' }) });
    copyFromRepo(root, 'workflows/gc-content.yaml', 'workflows/plugins/gc-content.mjs', 'workflows/data/sample.parquet');
    // A user project resolves `strand` from node_modules; link this repository there.
    const { symlinkSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(REPO, join(root, 'node_modules', 'strand'));
    const run = runCli(['run', 'workflows/gc-content.yaml'], root);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/done +gc .*sequences=1000/);
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(join(root, 'out/gc.parquet')), columns: ['id', 'vector'] });
    const first = rows[0] as { id: string; vector: number[] };
    expect(first.id).toBe('KY106088');
    expect(first.vector[0]).toBeCloseTo(0.4636, 4);
  });
});
