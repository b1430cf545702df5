// `strand doctor` through the built CLI: onnxruntime is always ready; JAX is ready when its environment
// imports jax, and otherwise the report names the setup command.
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../helpers/project.js';

describe('strand doctor', () => {
  it('reports onnxruntime and JAX ready with the runtime environment, and the plugins that are not', () => {
    const run = runCli(['doctor', '--json'], REPO);
    expect(run.status).toBe(0);
    const { runtimes } = JSON.parse(run.stdout) as { runtimes: { runtime: string; ready: boolean; detail: string; fix?: string }[] };
    expect(runtimes.map((r) => [r.runtime, r.ready])).toEqual([
      ['onnxruntime', true],
      ['jax', true],
      ['jax-tpu', false],
      ['xla-preflight', true],
      ['jax-gpu', false],
    ]);
    expect(runtimes[2]!.detail).toBe('libtpu installed; no TPU attached here');
    expect(runtimes[1]!.detail).toMatch(
      /^jax 0\.10\.2 in .*runtime\/jax\/\.venv\/bin\/python: platform cpu; the CPU splits into XLA host devices \(checked: 8 of 8 asked\)$/,
    );
  });

  it('says how to set JAX up when its Python is missing, and still succeeds', () => {
    const run = runCli(['doctor'], REPO, { STRAND_PYTHON: '/nonexistent/python' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^onnxruntime +ready +onnxruntime-node 1\.30\.0, CPU$/m);
    expect(run.stdout).toMatch(/^jax +missing +cannot start \/nonexistent\/python: ENOENT$/m);
    expect(run.stdout).toContain('get it: npm run setup:jax');
  });
});
