// Recipes: expansion and namespacing, errors inside recipes pointing at both files, strand.lock,
// and paths that escape the recipe's reach.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const RECIPE = `kind: recipe
version: 1
name: profile
description: k-mer profiles
params:
  k: { type: integer, default: 3 }
inputs:
  sequences: { type: sequences }
outputs:
  embeddings: "\${{ steps.vec.outputs.embeddings }}"
steps:
  vec:
    uses: embed/kmer-profile
    inputs: { sequences: "\${{ inputs.sequences }}" }
    with: { k: "\${{ params.k }}" }
`;

const FLOW = `version: 1
name: with-recipe
params:
  k: { type: integer, default: 4 }
steps:
  source: { uses: source/parquet, with: { path: data/sample.parquet } }
  prof: { uses: ./recipes/profile.yaml, needs: [source], with: { k: "\${{ params.k }}" } }
  out: { uses: export/parquet, needs: [prof, source], with: { path: out/p.parquet } }
`;

function project(files: Record<string, string> = {}): string {
  const root = writeProject({ 'flow.yaml': FLOW, 'recipes/profile.yaml': RECIPE, ...files });
  copyFromRepo(root, 'workflows/data/sample.parquet');
  return root;
}

function withSample(root: string): string {
  const bytes = readFileSync(join(root, 'workflows/data/sample.parquet'));
  writeFileSync(join(root, 'data.parquet'), bytes);
  return root;
}

describe('recipes', () => {
  it("expands into namespaced steps wired to the caller's needs, params and downstream steps", () => {
    const root = withSample(project({ 'flow.yaml': FLOW.replace('data/sample.parquet', 'data.parquet') }));
    const plan = runCli(['plan', 'flow.yaml', '--json'], root);
    const steps = JSON.parse(plan.stdout).steps;
    expect(steps.map((s: { step: string }) => s.step)).toEqual(['source', 'prof.vec', 'out']);
    expect(steps[1].inputs).toEqual({ sequences: { step: 'source', port: 'sequences' } });
    expect(steps[2].inputs).toEqual({
      embeddings: { step: 'prof.vec', port: 'embeddings' },
      metadata: { step: 'source', port: 'sequences' },
    });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.stdout).toMatch(/done +prof\.vec .*dim=256/); // k = 4 from the workflow's param
    expect(runCli(['graph', 'flow.yaml'], root).stdout).toContain('prof_vec["prof.vec<br/><small>embed/kmer-profile</small>"]');
  });

  it('reports an error inside a recipe at its line, and where the recipe is used', () => {
    const root = withSample(
      project({
        'recipes/profile.yaml': RECIPE.replace('embed/kmer-profile', 'embed/kmer-profil').replace(
          'k: "${{ params.k }}"',
          'k: "${{ params.kk }}"',
        ),
        'flow.yaml': FLOW.replace('data/sample.parquet', 'data.parquet'),
      }),
    );
    const result = runCli(['validate', 'flow.yaml'], root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'recipes/profile.yaml:13:11: error: step "prof.vec" uses unknown plugin "embed/kmer-profil" (did you mean "embed/kmer-profile"?) [unknown-plugin]',
    );
    expect(result.stderr).toContain('recipes/profile.yaml:15:17: error: recipe profile has no param "kk" [unknown-param]');
    expect(result.stderr).toContain('flow.yaml:7:17: note: the recipe is used here');
    expect(result.stderr).toMatch(/\n2 errors, 0 warnings\n$/);
  });

  it('reports an unknown recipe param at the calling line', () => {
    const root = withSample(
      project({ 'flow.yaml': FLOW.replace('data/sample.parquet', 'data.parquet').replace('{ k: "${{ params.k }}" }', '{ kay: 5 }') }),
    );
    expect(runCli(['validate', 'flow.yaml'], root).stderr).toContain('flow.yaml:7:66: error: recipe profile has no param "kay"');
  });

  it('pins recipes in strand.lock and refuses one that changed until the lock is updated', () => {
    const root = withSample(project({ 'flow.yaml': FLOW.replace('data/sample.parquet', 'data.parquet') }));
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'strand.lock'), 'utf8')).recipes).toHaveProperty(['recipes/profile.yaml']);
    writeFileSync(join(root, 'recipes/profile.yaml'), RECIPE.replace('default: 3', 'default: 5'));
    const refused = runCli(['plan', 'flow.yaml'], root);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      'flow.yaml:7:17: error: recipe recipes/profile.yaml changed since it was locked in strand.lock [recipe-changed]',
    );
    expect(runCli(['lock', 'flow.yaml', '--update'], root).stdout).toMatch(/^updated recipes\/profile.yaml/);
    expect(runCli(['plan', 'flow.yaml'], root).status).toBe(0);
  });

  it('refuses a merge-conflicted strand.lock at the marker line and leaves it untouched', () => {
    const root = withSample(project({ 'flow.yaml': FLOW.replace('data/sample.parquet', 'data.parquet') }));
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    const locked = readFileSync(join(root, 'strand.lock'), 'utf8');
    const [head, ...rest] = locked.split('\n');
    const conflicted = [
      head,
      '<<<<<<< HEAD',
      ...rest.slice(0, 2),
      '=======',
      `    "recipes/profile.yaml": "${'0'.repeat(64)}"`,
      '>>>>>>> theirs',
      ...rest.slice(2),
    ].join('\n');
    writeFileSync(join(root, 'strand.lock'), conflicted);
    writeFileSync(join(root, 'recipes/profile.yaml'), RECIPE.replace('default: 3', 'default: 5'));
    for (const verb of ['run', 'plan', 'lock']) {
      const refused = runCli([verb, 'flow.yaml'], root);
      expect(refused.status, verb).toBe(1);
      expect(refused.stderr, verb).toContain('strand.lock:2:1: error: strand.lock has merge-conflict markers [lock-invalid]');
    }
    expect(readFileSync(join(root, 'strand.lock'), 'utf8')).toBe(conflicted);
  });

  it('refuses a strand.lock that is not JSON at the line of the damage', () => {
    const root = withSample(
      project({
        'flow.yaml': FLOW.replace('data/sample.parquet', 'data.parquet'),
        'strand.lock': '{\n  "version": 1,\n  "recipes": {,\n}\n',
      }),
    );
    const refused = runCli(['run', 'flow.yaml'], root);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/strand\.lock:3:\d+: error: strand\.lock is not valid JSON/);
    expect(readFileSync(join(root, 'strand.lock'), 'utf8')).toBe('{\n  "version": 1,\n  "recipes": {,\n}\n');
  });

  it('finds recipes by name on the search path', () => {
    const root = writeProject({
      'shared/profile.yaml': RECIPE,
      'flow.yaml': FLOW.replace('data/sample.parquet', 'data.parquet').replace('./recipes/profile.yaml', 'recipe:profile'),
    });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    withSample(root);
    expect(runCli(['validate', 'flow.yaml'], root).stderr).toContain('recipe recipe:profile not found');
    expect(runCli(['validate', 'flow.yaml'], root, { STRAND_RECIPE_PATH: 'shared' }).status).toBe(0);
    expect(runCli(['recipe', 'list'], root, { STRAND_RECIPE_PATH: 'shared' }).stdout).toBe('recipe:profile  k-mer profiles\n');
  });

  it("refuses a recipe path that escapes its folder and the workflow's, unless allowed", () => {
    const escaping = RECIPE.replace('inputs:\n  sequences', 'inputs:\n  unused').replace(
      '  vec:\n    uses: embed/kmer-profile\n    inputs: { sequences: "${{ inputs.sequences }}" }',
      '  src:\n    uses: source/fasta\n    with: { path: ../../outside/secret.fa }\n  vec:\n    uses: embed/kmer-profile\n    needs: [src]',
    );
    const root = writeProject({
      'work/flow.yaml': 'version: 1\nname: e\nsteps:\n  p: { uses: ./lib/profile.yaml }\n',
      'work/lib/profile.yaml': escaping,
      'outside/secret.fa': '>a\nACGT\n',
    });
    const cwd = join(root, 'work');
    const refused = runCli(['validate', 'flow.yaml'], cwd);
    expect(refused.stderr).toContain(
      "lib/profile.yaml:14:19: error: recipe profile reaches ../../outside/secret.fa, outside its folder and the workflow's [path-escapes-workspace]",
    );
    writeFileSync(join(cwd, 'flow.yaml'), 'version: 1\nname: e\nallow_paths: [../outside]\nsteps:\n  p: { uses: ./lib/profile.yaml }\n');
    expect(runCli(['validate', 'flow.yaml'], cwd).status).toBe(0);
  });

  it('flags a recipe that runs local code', () => {
    const root = writeProject({
      'flow.yaml': 'version: 1\nname: c\nsteps:\n  p: { uses: ./r.yaml }\n',
      'r.yaml': 'kind: recipe\nversion: 1\nname: r\nsteps:\n  x: { uses: ./plugin.mjs }\n',
      'plugin.mjs': "export default { id: 'x', version: '1', description: 'x', with: {}, inputs: {}, outputs: {}, async run() {} };\n",
    });
    const result = runCli(['validate', 'flow.yaml'], root);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('r.yaml:5:14: warning: recipe r runs local code: ./plugin.mjs [recipe-runs-code]');
  });
});
