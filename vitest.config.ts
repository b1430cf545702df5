import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Hang guards, not expectations: no test passes or fails by how fast it runs, and on a loaded
    // machine an end-to-end test against the local cloud servers takes most of a minute.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // ink renders only a final frame when it believes it runs in CI; the TUI tests assert live frames.
    env: { CI: 'false' },
  },
});
