// Test helpers: temporary projects on disk and the built CLI as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO, 'dist/engine/cli/main.js');
export const ENGINE_ENTRY = join(REPO, 'dist/engine/index.js');
export const ITS_DATA = resolve(REPO, 'data/mycoai-yeast-its');

const made: string[] = [];

/** Creates a temporary project with the given files (paths relative to its root). */
export function writeProject(files: Record<string, string | Uint8Array>): string {
  const root = mkdtempSync(join(tmpdir(), 'strand-test-'));
  made.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** Copies repository files (the model, the sample data) into a project. */
export function copyFromRepo(root: string, ...paths: string[]): void {
  for (const path of paths) cpSync(join(REPO, path), join(root, path), { recursive: true });
}

export function removeProjects(): void {
  for (const root of made.splice(0)) rmSync(root, { recursive: true, force: true });
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env, NO_COLOR: '1' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function startCli(args: string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Resolves once `condition` holds (a state another process reaches: a journal line, a screen), checking
 * every 25 ms. `limitMs` only turns a hang into a message; it stays within the test timeout.
 */
export async function waitFor(condition: () => boolean, what: string, limitMs = 240_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) =>
    child.exitCode !== null || child.signalCode !== null ? r(child.exitCode) : child.on('exit', (code) => r(code)),
  );
}

/** Runs the CLI without blocking this process's event loop (needed when this process serves it, e.g. local cloud servers). */
export async function runCliAsync(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const child = startCli(args, cwd, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { status, stdout, stderr };
}
