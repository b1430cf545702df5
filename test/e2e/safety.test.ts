// Safety: outputs that escape the project, secrets kept out of every output, gc during a run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gatedPluginSource, gatedWorkflow } from '../helpers/gated-plugin.js';
import { copyFromRepo, exited, removeProjects, runCli, startCli, waitFor, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('safety', () => {
  it('refuses an output path outside the project unless allowed', () => {
    const flow = (extra: string) =>
      `version: 1\nname: o\n${extra}steps:\n  s: { uses: source/parquet, with: { path: workflows/data/sample.parquet } }\n  p: { uses: embed/kmer-profile, needs: [s] }\n  x: { uses: export/parquet, needs: [p], with: { path: ../../elsewhere/p.parquet } }\n`;
    const root = writeProject({ 'a.yaml': flow(''), 'b.yaml': flow('allow_paths: [../../elsewhere]\n') });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    const refused = runCli(['validate', 'a.yaml'], root);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('a.yaml:6:56: error: step "x" would write ../../elsewhere/p.parquet, outside the project');
    expect(runCli(['validate', 'b.yaml'], root).status).toBe(0);
  });

  it('keeps a secret out of output, plans, journals, cache keys and the store', () => {
    const secret = 'hf_SeCrEt_7f3a9b';
    const root = writeProject({
      'flow.yaml': `version: 1\nname: s\nparams:\n  token: { type: string, secret: true, env: HF_TOKEN }\nsteps:\n  s: { uses: source/fasta, with: { path: in.fa, lineage: regex, lineage_regex: "(?<tag>\${{ params.token }})?" } }\n`,
      'in.fa': `>a ${secret}\nACGT\n`,
    });
    const env = { HF_TOKEN: secret };
    const outputs = [
      runCli(['plan', 'flow.yaml', '--json'], root, env),
      runCli(['run', 'flow.yaml', '--json'], root, env),
      runCli(['run', 'flow.yaml'], root, env),
      runCli(['cache', 'ls', '--json'], root, env),
    ];
    for (const out of outputs) expect(out.stdout + out.stderr).not.toContain(secret);
    expect(outputs[1]!.status).toBe(0);
    const plan = JSON.parse(outputs[0]!.stdout);
    expect(plan.steps[0].fingerprint.params.lineage_regex).toBe('(?<tag>[secret:token])?');
    // The step's own data may hold the value (it was in the input file); Strand's records must not.
    for (const file of filesUnder(join(root, '.strand')).filter((f) => !f.includes('/objects/'))) {
      expect(readFileSync(file, 'utf8'), file).not.toContain(secret);
    }
  });

  it('refuses cache gc while a run holds the state directory', async () => {
    const root = writeProject({ 'flow.yaml': gatedWorkflow(1), 'plugins/gated-sum.mjs': gatedPluginSource() });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    const child = startCli(['run', 'flow.yaml'], root);
    await waitFor(() => {
      try {
        return readdirSync(join(root, '.strand/runs')).some((f) =>
          readFileSync(join(root, '.strand/runs', f), 'utf8').includes('"unit":"output:embeddings:1"'),
        );
      } catch {
        return false;
      }
    }, 'the run to block');
    const gc = runCli(['cache', 'gc'], root);
    expect(gc.status).toBe(1);
    expect(gc.stderr).toContain(`a run (pid ${child.pid}, strand run flow.yaml) is using`);
    child.kill('SIGKILL');
    await exited(child);
  });
});
