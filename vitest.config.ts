import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Crash and restart tests run real servers: generous per-test time, never a retry.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers only make the process-level tests fight for CPU.
    maxWorkers: 2,
  },
});
