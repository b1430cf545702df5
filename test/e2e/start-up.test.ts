// What `strand` loads to start: --version and --help load no command, and checking a workflow loads
// none of the libraries only running it needs (speed itself is measured by `npm run bench -- start-up`).
import { afterEach, describe, expect, it } from 'vitest';
import { loadedModules } from '../helpers/loaded-modules.js';
import { ENGINE_ENTRY, removeProjects, REPO, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const RUN_ONLY = [
  'apache-arrow',
  'yaml',
  'hyparquet',
  'hyparquet-writer',
  '@google-cloud/storage',
  '@google-cloud/tpu',
  'google-auth-library',
  'onnxruntime-node',
  '@lancedb/lancedb',
  'ink',
  'react',
  'echarts',
  'chokidar',
  'ml-pca',
];

describe('start-up', () => {
  it.each([['--version'], ['--help']])('loads no command and no package for %s', (flag) => {
    const loaded = loadedModules([flag], REPO);
    expect(loaded.status).toBe(0);
    expect([...loaded.packages]).toEqual([]);
    expect(loaded.files.filter((f) => /cli\/commands\/(?!index\.js)/.test(f))).toEqual([]);
  });

  it('validates the quickstart with precompiled validators and none of the libraries a run needs', () => {
    const loaded = loadedModules(['validate', 'workflows/quickstart.yaml'], REPO);
    expect(loaded.stdout).toContain('workflows/quickstart.yaml: ok');
    expect(RUN_ONLY.filter((p) => loaded.packages.has(p))).toEqual([]);
    // ajv's runtime helpers, not its compiler.
    expect(loaded.files.filter((f) => /ajv\/dist\/(compile|core|2020)/.test(f))).toEqual([]);
  });

  it("compiles a local plugin's schema at run time and reports an unknown key in its with:", () => {
    const root = writeProject({
      'plugins/gc.mjs': `import { defineStep } from ${JSON.stringify(ENGINE_ENTRY)};
export default defineStep({
  id: 'gc', version: '1', description: 'GC content',
  with: { properties: { window: { type: 'integer', default: 10 } } },
  inputs: {}, outputs: {},
  async run() {},
});\n`,
      'flow.yaml': 'version: 1\nname: flow\nsteps:\n  gc:\n    uses: ./plugins/gc.mjs\n    with:\n      windw: 5\n',
    });
    const result = runCli(['validate', 'flow.yaml'], root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('flow.yaml:7:7: error: unknown key "windw" in steps.gc.with (did you mean "window"?)');
  });
});
