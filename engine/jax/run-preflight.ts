// Owns calling the compiler: one `python -m strand_jax preflight` child for a batch of requests (JSON
// lines in, one reply line each out, checked against preflight.schema.json both ways). No Python, or a
// child that dies, is an error value the caller turns into "fell back to the formula, because ...".
import { spawn } from 'node:child_process';
import { fail, ok, type Result } from '../util/result.js';
import { findPython, pythonEnv } from './jax-process.js';
import { checkPreflight, parsePreflightReply, type PreflightReply, type PreflightRequest } from './preflight-contract.js';

export async function runPreflight(
  requests: readonly PreflightRequest[],
  env: Record<string, string | undefined>,
): Promise<Result<PreflightReply[], string>> {
  const found = findPython(env);
  if ('error' in found) return fail(found.error);
  for (const request of requests) {
    const checked = checkPreflight('PreflightRequest', request);
    if (!checked.ok) throw new Error(`bug: the engine built an invalid pre-flight request: ${checked.error}`);
  }
  // The host backend only traces; CPU keeps JAX from looking for a TPU (tens of seconds with libtpu present).
  const child = spawn(found.python, ['-m', 'strand_jax', 'preflight'], { env: pythonEnv(env, 'cpu'), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr = (stderr + chunk).slice(-16384)));
  child.stdin.on('error', () => undefined); // a child that exits early is reported by its exit below
  child.stdin.end(requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  if (exit.error !== undefined) return fail(`cannot start ${found.python}: ${exit.error.code ?? exit.error.message}`);
  const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
  if (lines.length === 0 && exit.code !== 0 && exit.signal === null) {
    const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(stderr);
    const why = missing
      ? `its Python cannot import ${missing[1]}`
      : `it exited with code ${exit.code}: ${stderr.trim().split('\n').at(-1) ?? ''}`;
    return fail(`the pre-flight compiler did not answer (${why})`);
  }
  const replies: PreflightReply[] = [];
  for (const line of lines) {
    const reply = parsePreflightReply(line);
    if (!reply.ok) return fail(`the pre-flight compiler's answer does not follow preflight.schema.json: ${reply.error}`);
    replies.push(reply.value);
  }
  // Answers come one line per request as each is compiled: a compiler that crashed (libtpu overflows its
  // stack on large programs where the stack limit cannot be raised: docs/placement.md) answered the requests
  // before, crashed on the one it was on, and never saw those after it.
  const died = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const crashedOn = replies.length;
  while (replies.length < requests.length) {
    const request = requests[replies.length]!;
    const message =
      replies.length === crashedOn
        ? `XLA crashed (the compiler was ${died}) compiling per-device ${request.batch === 'auto' ? 'batch auto' : request.batch} up to length ${request.max_length}`
        : `not compiled: the compiler was ${died} on an earlier request`;
    replies.push({ kind: 'preflight-failure', reason: 'libtpu-error', message });
  }
  return ok(replies);
}
