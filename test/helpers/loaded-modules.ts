// Test helper: runs the built CLI and returns every module file it loaded — ES modules through a module
// hook, CommonJS ones from require.cache at exit — so a test can say which libraries a command loads
// (which modules load is a fact of the code; how long they take is for the benches).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, writeProject } from './project.js';

// Loaded with `--import`: the hook (in the loader thread) appends each ES module's URL as it loads, and
// the main thread appends the CommonJS cache when the process exits. Both write synchronously.
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.STRAND_TEST_MODULES, url + '\\n');
  return next(url, context);
}`;
const PRELOAD = `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));
const cache = createRequire('/').cache;
process.on('exit', () => appendFileSync(process.env.STRAND_TEST_MODULES, Object.keys(cache).join('\\n') + '\\n'));`;

export interface LoadedModules {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Packages under node_modules that were loaded, by name (`@google-cloud/storage`, `ajv`). */
  packages: Set<string>;
  /** Every loaded file (paths, or URLs for ES modules). */
  files: string[];
}

export function loadedModules(args: string[], cwd: string): LoadedModules {
  const record = join(writeProject({ 'modules.txt': '' }), 'modules.txt');
  const preload = `data:text/javascript,${encodeURIComponent(PRELOAD)}`;
  const result = spawnSync(process.execPath, ['--import', preload, CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', STRAND_TEST_MODULES: record },
  });
  const files = readFileSync(record, 'utf8').split('\n').filter(Boolean);
  const packages = new Set(
    files.flatMap((f) => {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
      return m ? [m[1]!] : [];
    }),
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, packages, files };
}
