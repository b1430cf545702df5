#!/usr/bin/env node
// Owns the `strand` executable: run the compiled CLI in dist/, compiling it first when it is missing.
// `.npmrc` sets ignore-scripts (onnxruntime-node's install script would try to download CUDA files), so
// `npm ci` runs no lifecycle script of ours either; on a fresh clone the first `npx strand` builds dist/
// and precompiles its JSON-Schema validators (`npm run build` does the same). A published package ships
// dist/ and never compiles.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'engine', 'cli', 'main.js');
if (!existsSync(cli)) {
  process.stderr.write('strand: compiling the CLI into dist/ (once, after a fresh install)\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'dist', 'scripts', 'build-validators.js')], { stdio: 'inherit' });
}
await import(pathToFileURL(cli).href);
