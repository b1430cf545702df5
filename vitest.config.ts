import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import LongFilesFirst from './test/helpers/long-files-first.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Hang guards, not expectations: no test passes or fails by how fast it runs, and on a loaded
    // machine an end-to-end test against the local cloud servers takes most of a minute.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // One XLA compilation cache for every JAX process of the run (test/helpers/xla-compilation-cache.ts).
    globalSetup: ['test/helpers/xla-compilation-cache.ts'],
    // Long files first, also on a fresh clone (test/helpers/long-files-first.ts).
    sequence: { sequencer: LongFilesFirst },
    pool: 'forks',
    // Files run side by side: each works in its own temporary project against servers on ports the system
    // picks, and most of a file's time is child processes (the CLI, JAX, XLA compiles) and waits on them, so
    // one more worker than cores keeps the cores fed. Capped at 4: a file may hold a few JAX processes.
    maxWorkers: Math.min(4, availableParallelism() + 1),
    // ink renders only a final frame when it believes it runs in CI; the TUI tests assert live frames.
    env: { CI: 'false' },
  },
});
