import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * The tests that start a gateway in-process through a harness (test/engine-under-test.ts): they
 * run a second time on two engine threads sharing the partitions, as `omni serve --workers 2` runs them.
 * Found by what they call, so a new gateway-level test joins without being listed.
 */
const STARTS_A_GATEWAY = /\b(startTestServer|useHostileServer|startWsServer|useWsServers|startServiceServer|useServiceServers|startUiServer)\(/;
const gatewayLevel = readdirSync('test')
  .filter((file) => file.endsWith('.test.ts') && STARTS_A_GATEWAY.test(readFileSync(`test/${file}`, 'utf8')))
  .map((file) => `test/${file}`);

export default defineConfig({
  test: {
    // Crash and restart tests run real servers: generous per-test time, never a retry.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers only make the process-level tests fight for CPU.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'engine in the test thread', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'engine on its own thread', include: gatewayLevel, env: { OMNI_TEST_WORKERS: '2' } } },
    ],
  },
});
