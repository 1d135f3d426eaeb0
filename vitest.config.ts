import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * The tests that start a gateway in-process through a harness (test/engine-under-test.ts): they
 * run a second time on two engine threads sharing the partitions, as `omni serve --workers 2` runs them.
 * Found by what they call, so a new gateway-level test joins without being listed.
 */
const STARTS_A_GATEWAY = /\b(startTestServer|useHostileServer|startWsServer|useWsServers|startServiceServer|useServiceServers|startUiServer)\(/;
/**
 * Gateway-level tests whose second run checks nothing the first does not: what they check is
 * decided before an event reaches the engine, or is a page's rendering of what the gateway sends
 * (the same answers and updates from either layout, which the other gateway and WebSocket tests
 * check on two threads). Each costs its whole time again (headless Chromium; uWS's idle timeout).
 */
const ONE_LAYOUT_IS_ENOUGH = [
  // HTTP framing is refused or closed by the gateway and uWS before any route reads a body.
  /^http-framing\.test\.ts$/,
  // A WebSocket's lifetime: closed by the gateway's token sweep and uWS's idle timeout.
  /^ws-lifetime\.test\.ts$/,
  // The pages under /ui/ in headless Chromium.
  /^ui-.*\.test\.ts$/,
];
const gatewayLevel = readdirSync('test')
  .filter((file) => file.endsWith('.test.ts') && STARTS_A_GATEWAY.test(readFileSync(`test/${file}`, 'utf8')))
  .filter((file) => !ONE_LAYOUT_IS_ENOUGH.some((pattern) => pattern.test(file)))
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
