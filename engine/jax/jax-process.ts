// Owns running the JAX runtime (`runtime/jax`, runtime/jax/README.md "How the engine calls it") as a child process:
// finding the interpreter, the command line, the JSON lines it prints (one per durable shard, then a
// summary), and turning a missing environment or a failure into a StepError with the fix. Only steps
// placed on JAX come here; nothing else in Strand needs Python.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { StepError } from '../index.js';

/** The command that creates runtime/jax/.venv from its lock (package.json `setup:jax`). */
export const JAX_SETUP_COMMAND = 'npm run setup:jax';
const SETUP_HINT = `run \`${JAX_SETUP_COMMAND}\` (creates runtime/jax/.venv from uv.lock: jax, jaxlib, safetensors, pyarrow; about 700 MB), or set STRAND_PYTHON to a Python 3.11 that has them`;

/** The runtime's folder: beside the sources (engine/jax -> runtime/jax) or the build (dist/engine/jax). */
export function jaxRuntimeDir(): string {
  const candidates = ['../../runtime/jax', '../../../runtime/jax'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((p) => existsSync(join(p, 'pyproject.toml'))) ?? candidates[0]!;
}

export type PythonLookup = { python: string; from: 'STRAND_PYTHON' | 'venv' } | { error: string; hint: string };

/** `STRAND_PYTHON`, else runtime/jax/.venv/bin/python when it exists. */
export function findPython(env: Record<string, string | undefined>): PythonLookup {
  const given = env.STRAND_PYTHON;
  if (given !== undefined && given !== '') return { python: given, from: 'STRAND_PYTHON' };
  const venv = join(jaxRuntimeDir(), '.venv', 'bin', 'python');
  if (existsSync(venv)) return { python: venv, from: 'venv' };
  return { error: `the JAX runtime is not set up: ${venv} does not exist`, hint: SETUP_HINT };
}

/** The environment of a runtime process: the package importable from its sources, CPU forced when asked. */
export function pythonEnv(env: Record<string, string | undefined>, platform?: 'cpu'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'XLA_FLAGS') out[k] = v;
  out.PYTHONPATH = [join(jaxRuntimeDir(), 'src'), env.PYTHONPATH].filter((p) => p).join(delimiter);
  if (platform !== undefined) out.JAX_PLATFORMS = platform;
  return out;
}

export interface JaxEmbedJob {
  /** A Hugging Face model folder. */
  model: string;
  /** Token shard files (Arrow IPC), in the order of the output shards they make. */
  tokens: string[];
  /** Folder for the vector shards (`OUT/<token shard name>`). */
  out: string;
  mesh: { data: number; fsdp: number; tp: number };
  perDeviceBatch: number;
  precision: 'fp32' | 'bf16';
  pooling: 'mean' | 'cls' | 'max';
  includeCls: boolean;
  normalize: boolean;
  padId: number;
  prefix: number;
  /** Sets the last length bucket, so a shard's buckets do not depend on which other shards run with it. */
  maxLength?: number;
  /** kind: cpu: split the host into this many XLA devices (and force the CPU platform). */
  hostDevices?: number;
  /** A peft LoRA folder applied to the encoder (fine-tuned embeddings). */
  adapters?: string;
}

export interface JaxShardDone {
  /** Position in `JaxEmbedJob.tokens`. */
  index: number;
  file: string;
  sequences: number;
}

/** The runtime's last stdout line (runtime/jax/README.md "How the engine calls it"). */
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
}

export function embedArgs(job: JaxEmbedJob): string[] {
  return [
    '-m',
    'strand_jax',
    'embed',
    '--model',
    job.model,
    '--tokens',
    ...job.tokens,
    '--out',
    job.out,
    '--mesh',
    `${job.mesh.data},${job.mesh.fsdp},${job.mesh.tp}`,
    '--per-device-batch',
    String(job.perDeviceBatch),
    '--precision',
    job.precision,
    '--pooling',
    job.pooling,
    job.includeCls ? '--include-cls' : '--no-include-cls',
    ...(job.normalize ? ['--normalize'] : []),
    '--pad-id',
    String(job.padId),
    '--prefix',
    String(job.prefix),
    ...(job.maxLength !== undefined ? ['--max-length', String(job.maxLength)] : []),
    ...(job.adapters !== undefined ? ['--adapters', job.adapters] : []),
    ...(job.hostDevices !== undefined ? ['--host-devices', String(job.hostDevices)] : []),
    '--exit-with-stdin',
  ];
}

/** `python -m strand_jax train-lora`: the job is a JSON file (runtime/jax/src/strand_jax/lora_trainer.py). */
export function trainLoraArgs(jobFile: string, hostDevices: number | undefined): string[] {
  return [
    '-m',
    'strand_jax',
    'train-lora',
    '--job',
    jobFile,
    ...(hostDevices !== undefined ? ['--host-devices', String(hostDevices)] : []),
    '--exit-with-stdin',
  ];
}

export interface JaxRunOptions {
  signal: AbortSignal;
  /** Called for each shard as it becomes durable, one at a time, in order. */
  onShard(done: JaxShardDone): Promise<void>;
  env: Record<string, string | undefined>;
}

/**
 * Runs `python -m strand_jax embed`. Resolves with its summary; rejects with a StepError (the runtime's
 * message and a hint), or an AbortError when `signal` stopped it (shards reported so far are complete).
 */
export async function runJaxEmbed(job: JaxEmbedJob, options: JaxRunOptions): Promise<JaxEmbedSummary> {
  const summary = await runJaxProcess(embedArgs(job), job.hostDevices, {
    signal: options.signal,
    env: options.env,
    summaryKind: 'embed-summary',
    onEvent: async (event) => {
      if (event.kind === 'shard-done') await options.onShard(event as unknown as JaxShardDone);
    },
  });
  return summary as unknown as JaxEmbedSummary;
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

/**
 * Runs `python ARGS` with the runtime on its path (`--host-devices`: the CPU split into that many XLA devices).
 * Resolves with the summary line; rejects with a StepError (the runtime's message and a hint), or an
 * AbortError when `signal` stopped it (events handled so far stand).
 */
export async function runJaxProcess(args: string[], hostDevices: number | undefined, options: JaxProcessOptions): Promise<JaxEvent> {
  const found = findPython(options.env);
  if ('error' in found) throw new StepError(found.error, found.hint);
  const child = spawn(found.python, args, {
    env: pythonEnv(options.env, hostDevices !== undefined ? 'cpu' : undefined),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
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

/** The runtime's own `error: ...` line when it gave one; a missing module means a wrong environment. */
function describeFailure(code: number | null, signal: NodeJS.Signals | null, stderr: string, from: 'STRAND_PYTHON' | 'venv'): StepError {
  const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(stderr);
  if (missing !== null)
    return new StepError(
      `the JAX runtime's Python (${from === 'venv' ? 'runtime/jax/.venv' : 'STRAND_PYTHON'}) cannot import ${missing[1]}`,
      SETUP_HINT,
    );
  const own = stderr
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('error: '));
  if (code === 1 && own !== undefined)
    return new StepError(
      `JAX runtime: ${own.slice('error: '.length)}`,
      "check the model folder and the step's mesh:, batch: and precision:",
    );
  const tail = stderr.trim().split('\n').slice(-3).join(' | ');
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
  return new StepError(
    `the JAX runtime ${how}${tail ? `: ${tail}` : ''}`,
    signal === 'SIGKILL'
      ? 'out of memory? try a smaller batch: or precision: bf16; completed shards are kept'
      : 'completed shards are kept; run again after the fix',
  );
}
