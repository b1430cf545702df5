// Owns running the JAX runtime (`runtime/jax`, runtime/jax/README.md "How the engine calls it") as a child process:
// finding the interpreter, handing it one job file, the JSON lines it prints (one per durable shard or
// training event, then a summary), and turning a missing environment or a failure into a StepError with
// the fix. Only steps placed on JAX (and a step that logs to W&B: wandb-log.ts) come here; nothing else in
// Strand needs Python.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { StepError } from '../plugin-api/step-error.js';
import { checkedJaxValue, type LocalRun } from './jax-job.js';
import { jaxRuntimeDir } from './jax-runtime-dir.js';

/** The command that creates runtime/jax/.venv from its lock (package.json `setup:jax`). */
export const JAX_SETUP_COMMAND = 'npm run setup:jax';
const SETUP_HINT = `run \`${JAX_SETUP_COMMAND}\` (creates runtime/jax/.venv from uv.lock: jax, jaxlib, safetensors, pyarrow; about 700 MB), or set STRAND_PYTHON to a Python 3.11 that has them`;

export type PythonLookup = { python: string; from: 'STRAND_PYTHON' | 'venv' } | { error: string; hint: string };

/** `STRAND_PYTHON`, else runtime/jax/.venv/bin/python when it exists. */
export function findPython(env: Record<string, string | undefined>): PythonLookup {
  const given = env.STRAND_PYTHON;
  if (given !== undefined && given !== '') return { python: given, from: 'STRAND_PYTHON' };
  const venv = join(jaxRuntimeDir(), '.venv', 'bin', 'python');
  if (existsSync(venv)) return { python: venv, from: 'venv' };
  return { error: `the JAX runtime is not set up: ${venv} does not exist`, hint: SETUP_HINT };
}

/**
 * The environment of a runtime process: the package importable from its sources, the CPU platform forced
 * when asked (the pre-flight only traces). XLA_FLAGS is left out: a job's placement decides its XLA devices
 * (strand_jax/job.py sets them before JAX starts).
 */
export function pythonEnv(env: Record<string, string | undefined>, platform?: 'cpu'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'XLA_FLAGS') out[k] = v;
  out.PYTHONPATH = [join(jaxRuntimeDir(), 'src'), env.PYTHONPATH].filter((p) => p).join(delimiter);
  if (platform !== undefined) out.JAX_PLATFORMS = platform;
  return out;
}

export interface JaxShardDone {
  /** Position in the run's `paths.tokens`. */
  index: number;
  file: string;
  sequences: number;
}

/** An embed run's last stdout line (runtime/jax/README.md "How the engine calls it"). */
export interface JaxEmbedSummary {
  sequences: number;
  rows: number;
  tokens: number;
  dim: number;
  family: string;
  precision: string;
  mesh: { data: number; fsdp: number; tp: number };
  platform: string;
  devices: number;
  global_batch: number;
  /** Every length bucket of the run; `compiled` lists those a program was compiled for. */
  buckets: number[];
  compilations: number;
  compile_seconds: number;
  compiled: { bucket: number; seconds: number }[];
  seconds: number;
  /** The most memory any device had in use at once (GPU, TPU); null on the CPU, which keeps no such count. */
  peak_bytes_per_device: number | null;
}

/** The summary line each job kind ends with. */
const SUMMARY_KIND = { embed: 'embed-summary', train: 'train-summary', cluster: 'cluster-summary' } as const;

export interface JaxRunOptions {
  signal: AbortSignal;
  env: Record<string, string | undefined>;
  /** Called for each line but the summary, one at a time, in order; a throw stops the process. */
  onEvent(event: JaxEvent): Promise<void>;
}

/**
 * Runs one JAX job on this machine: the job and its paths, checked against the schema, written to
 * `file`, then `python -m strand_jax run FILE` (the one entry point; the hosts of a TPU slice run the same
 * job through the worker contract). Resolves with the summary line; rejects with a StepError (the
 * runtime's message and a hint), or an AbortError when `signal` stopped it (events handled so far stand).
 */
export async function runJaxJob(run: LocalRun, file: string, options: JaxRunOptions): Promise<JaxEvent> {
  writeFileSync(file, JSON.stringify(checkedJaxValue('LocalRun', run)));
  return runJaxProcess(['-m', 'strand_jax', 'run', file, '--exit-with-stdin'], { ...options, summaryKind: SUMMARY_KIND[run.job.kind] });
}

/** One JSON line the runtime printed (runtime/jax/README.md "How the engine calls it"). */
export type JaxEvent = { kind?: string } & Record<string, unknown>;

export interface JaxProcessOptions {
  signal: AbortSignal;
  env: Record<string, string | undefined>;
  /** The `kind` of the last line, the command's summary. */
  summaryKind: string;
  /** Called for each other line, one at a time, in order; a throw stops the process. */
  onEvent(event: JaxEvent): Promise<void>;
}

/** Runs `python ARGS` with the runtime on its path; see runJaxJob. */
async function runJaxProcess(args: string[], options: JaxProcessOptions): Promise<JaxEvent> {
  return startJaxProcess(args, options).done;
}

/** A runtime process fed from its stdin (which `done` closes, if it is still open, once the process ended). */
export interface JaxProcess {
  stdin: Writable;
  /** The summary line; a StepError (or an AbortError) as runJaxJob's. */
  done: Promise<JaxEvent>;
}

/** Starts `python ARGS` with the runtime on its path; see runJaxJob. */
export function startJaxProcess(args: string[], options: JaxProcessOptions): JaxProcess {
  const found = findPython(options.env);
  if ('error' in found) throw new StepError(found.error, found.hint);
  const child = spawn(found.python, args, {
    env: pythonEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A process that ended early makes writes fail with EPIPE: its own exit, in `done`, says why.
  child.stdin.on('error', () => undefined);
  return { stdin: child.stdin, done: finished(child, found, options) };
}

async function finished(
  child: ChildProcessWithoutNullStreams,
  found: { python: string; from: 'STRAND_PYTHON' | 'venv' },
  options: JaxProcessOptions,
): Promise<JaxEvent> {
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr = (stderr + chunk).slice(-65536)));
  let queue = Promise.resolve();
  let failure: Error | undefined;
  let summary: JaxEvent | undefined;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let parsed: JaxEvent;
    try {
      parsed = JSON.parse(line) as JaxEvent;
    } catch {
      return; // a library's stray print: not ours
    }
    if (parsed.kind === options.summaryKind) {
      summary = parsed;
      return;
    }
    queue = queue.then(async () => {
      if (failure !== undefined) return;
      try {
        await options.onEvent(parsed);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
        child.kill('SIGTERM');
      }
    });
  });
  const stop = (): void => void child.kill('SIGTERM');
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: NodeJS.ErrnoException }>(
      (resolve) => {
        child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, spawnError: error }));
        child.on('close', (code, signal) => resolve({ code, signal }));
      },
    );
    await queue;
    if (failure !== undefined) throw failure;
    if (options.signal.aborted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
    if (exit.spawnError !== undefined)
      throw new StepError(
        `cannot start the JAX runtime's Python (${found.python}): ${exit.spawnError.code ?? exit.spawnError.message}`,
        SETUP_HINT,
      );
    if (exit.code === 0 && summary !== undefined) return summary;
    throw describeFailure(exit.code, exit.signal, stderr, found.from);
  } finally {
    options.signal.removeEventListener('abort', stop);
    child.stdin.destroy();
  }
}

/**
 * The runtime's own `error: ...` line when it gave one, with its `hint: ...` line when it has its own fix; a
 * missing module means a wrong environment.
 */
function describeFailure(code: number | null, signal: NodeJS.Signals | null, stderr: string, from: 'STRAND_PYTHON' | 'venv'): StepError {
  const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(stderr);
  if (missing !== null)
    return new StepError(
      `the JAX runtime's Python (${from === 'venv' ? 'runtime/jax/.venv' : 'STRAND_PYTHON'}) cannot import ${missing[1]}`,
      SETUP_HINT,
    );
  const lines = stderr.split('\n');
  const at = lines.findLastIndex((l) => l.startsWith('error: '));
  if (code === 1 && at >= 0) {
    // Its first `hint:` line after the error (other output can come between).
    const hint = lines
      .slice(at + 1)
      .find((l) => l.startsWith('hint: '))
      ?.slice('hint: '.length);
    return new StepError(
      `JAX runtime: ${lines[at]!.slice('error: '.length)}`,
      hint ?? "check the model folder and the step's mesh:, batch: and precision:",
    );
  }
  const tail = stderr.trim().split('\n').slice(-3).join(' | ');
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
  return new StepError(
    `the JAX runtime ${how}${tail ? `: ${tail}` : ''}`,
    signal === 'SIGKILL'
      ? 'out of memory? try a smaller batch: or precision: bf16; completed shards are kept'
      : 'completed shards are kept; run again after the fix',
  );
}
