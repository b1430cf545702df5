// Owns what the benchmarks share: timing (median of repeats), temporary projects, running the built
// CLI as a child with its peak memory, and making bigger Parquet inputs from the shipped sample.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { GcsServer } from '../test/emulators/gcs-server.js';
import { TpuServer } from '../test/emulators/tpu-server.js';
import { writeFileSync } from 'node:fs';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MEASURE = join(REPO, 'dist/bench/measure-cli.js');

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function timeIt(fn: () => unknown, repeats = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

export function tempProject(): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'strand-bench-'));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export function copyIn(root: string, ...paths: string[]): void {
  for (const p of paths) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    cpSync(join(REPO, p), join(root, p), { recursive: true });
  }
}

/** Runs the CLI in `cwd`; returns wall time and the child's peak resident memory. */
export interface StrandRun {
  ms: number;
  maxRssMiB: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

function strandRun(ms: number, status: number | null, stdout: string, stderr: string): StrandRun {
  const rss = /STRAND_BENCH_MAXRSS_KB=(\d+)/.exec(stderr);
  return { ms, maxRssMiB: rss ? Number(rss[1]) / 1024 : NaN, status, stdout, stderr };
}

/** @param checkout the built checkout whose CLI runs (default this one; another, to compare with an earlier commit) */
export function runStrand(args: string[], cwd: string, checkout = REPO): StrandRun {
  const measure = checkout === REPO ? MEASURE : join(checkout, 'dist/bench/measure-cli.js');
  const start = performance.now();
  const r = spawnSync(process.execPath, [measure, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  return strandRun(performance.now() - start, r.status, r.stdout, r.stderr);
}

/** runStrand without blocking this process (a local server in it must keep answering the child). */
export async function runStrandAsync(args: string[], cwd: string, env: Record<string, string>): Promise<StrandRun> {
  const start = performance.now();
  const child = spawn(process.execPath, [MEASURE, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return strandRun(performance.now() - start, status, stdout, stderr);
}

/** Writes the shipped 1,000-record sample repeated `times` times (ids made unique) to `path`. */
export async function repeatedSample(path: string, times: number): Promise<number> {
  const rows = (await parquetReadObjects({
    file: await asyncBufferFromFile(join(REPO, 'workflows/data/sample.parquet')),
  })) as unknown as Record<string, unknown>[];
  const columns = Object.keys(rows[0]!);
  const all: Record<string, unknown>[] = Array.from({ length: times }, (_, t) =>
    rows.map((r) => ({ ...r, id: `${String(r.id)}#${t}` })),
  ).flat();
  const buffer = parquetWriteBuffer({
    columnData: columns.map((name) => ({ name, data: all.map((r) => r[name] ?? null), type: 'STRING' as const, nullable: true })),
    rowGroupSize: 5000,
  });
  writeFileSync(path, new Uint8Array(buffer));
  return all.length;
}

/** The local GCS and TPU servers the TPU benches run against, with `bucket` made and the hosts on this
 * repository's JAX runtime; stop both when done. */
export async function localCloudServers(bucket: string): Promise<{ gcs: GcsServer; tpu: TpuServer }> {
  const gcs = await new GcsServer().start();
  gcs.createBucket(bucket);
  const tpu = await new TpuServer({
    ...gcs.clientEnv(),
    STRAND_RUNTIME_PYTHON: join(REPO, 'runtime/jax/.venv/bin/python'),
  }).start();
  return { gcs, tpu };
}
