// vitest's global set-up: one JAX persistent compilation cache for the whole run, in a fresh temporary folder
// removed at the end. Every JAX process the tests start (the CLI's runtime processes, the emulated TPU hosts,
// the pre-flight compiler) inherits it through the environment, so a program that many tests compile — the
// tiny NT's forward and LoRA step at the same mesh and shapes — is compiled once per run, not once per
// process. JAX keys entries by the program, its compile options and the backend, so a hit is the executable
// XLA would have built; min compile time 0 keeps the tiny test programs (each well under JAX's default 1 s).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const folder = mkdtempSync(join(tmpdir(), 'strand-test-xla-cache-'));
  process.env.JAX_COMPILATION_CACHE_DIR = folder;
  process.env.JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS = '0';
  return () => rmSync(folder, { recursive: true, force: true });
}
