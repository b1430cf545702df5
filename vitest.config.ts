import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // ink renders only a final frame when it believes it runs in CI; the TUI tests assert live frames.
    env: { CI: 'false' },
  },
});
