// A tiny real run against a real gateway on loopback: open-loop ingest plus SDK subscribers,
// with the counts checked against each other and against the report.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../loadgen/mod.ts';
import { verifyToken } from '../gateway/mod.ts';
import type { LoadgenOptions } from '../loadgen/options.ts';
import { REQUIRED_FIELDS } from '../loadgen/report.ts';
import { runLoadgen } from '../loadgen/run.ts';
import { TEST_SECRET, getJson, startTestServer, type TestServer } from './gateway-harness.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

function options(over: Partial<LoadgenOptions>): LoadgenOptions {
  return {
    url: server.url,
    durationS: 2,
    rate: 500,
    subscribers: 5,
    skus: 50,
    scenario: 'stock',
    token: server.token('ingest', 'loadgen'),
    subscriberToken: server.token('customer', 'watcher'),
    batch: 500,
    format: 'json',
    connections: 16,
    tickMs: 5,
    progress: true,
    ...over,
  };
}

describe('omni loadgen against a real server', () => {
  it('sends on schedule, every event is answered, subscribers receive and count the pushes', async () => {
    const lines: string[] = [];
    const { report, perClient, ack } = await runLoadgen(options({}), (l) => lines.push(l));
    expect(verifyToken(options({}).token, TEST_SECRET).ok).toBe(true);
    for (const f of REQUIRED_FIELDS) expect(report).toHaveProperty(f);
    expect(report.sent).toBe(1000);
    expect(report.unsent).toBe(0);
    expect(report.sent).toBe(report.acked + report.errors);
    // acked = the ok results: the answers' results add up, with every error code accounted for.
    expect(report.acked).toBe(report.sent - Object.values(report.errorCodes).reduce((a, b) => a + b, 0));
    expect(report.acked).toBeGreaterThan(900);
    expect(report.failedRequests).toBe(0);
    expect(ack.count).toBe(report.sent);
    expect(report.received).toBeGreaterThan(0);
    expect(perClient).toHaveLength(5);
    expect(perClient.reduce((a, b) => a + b, 0)).toBe(report.received);
    expect(report.latencyMs.push.count).toBe(report.received);
    expect(report.latencyMs.ack.p50).toBeGreaterThan(0);
    expect(report.latencyMs.ack.p99).toBeGreaterThanOrEqual(report.latencyMs.ack.p50);
    expect(report.durationS).toBeGreaterThan(1.9);
    expect(report.durationS).toBeLessThan(10);
    expect(report.eventsPerS).toBeGreaterThan(100);
    expect(report.loadgenCpu).toBeGreaterThan(0);
    expect(report.snapshots).toBeGreaterThanOrEqual(5);
    // A progress line per second on the log.
    expect(lines.filter((l) => /^\[ *\d+s\] sent/.test(l)).length).toBeGreaterThanOrEqual(1);
    // The server applied what was acked: the first SKU exists, under the run's prefix.
    expect(report.idPrefix).toMatch(/^lg-[0-9a-z]+-[0-9a-f]{6}$/);
    const stock = await getJson(server.url, `/v1/stock/${report.idPrefix}-SKU-000000`);
    expect(stock.status).toBe(200);
  });

  it('runs its subscribers in a worker thread with the same counts, over msgpack', async () => {
    const { report, perClient } = await runLoadgen(options({ durationS: 1, rate: 300, subscribers: 4, subscriberWorkers: 1, format: 'msgpack', progress: false }), () => undefined);
    expect(report.sent).toBe(300);
    expect(report.sent).toBe(report.acked + report.errors);
    expect(report.subscriberWorkers).toBe(1);
    expect(report.received).toBeGreaterThan(0);
    expect(perClient.reduce((a, b) => a + b, 0)).toBe(report.received);
    expect(report.latencyMs.push.count).toBe(report.received);
  });

  it('`omni loadgen` with a scenario file writes the JSON and HTML reports and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omni-loadgen-'));
    try {
      const scenario = join(dir, 'scenario.json');
      writeFileSync(scenario, JSON.stringify({ mix: { 'stock.received': 3, 'stock.sold': 3, 'stock.reserve': 1, 'stock.release': 1, 'stock.transfer': 1 }, skus: 20, locations: 3 }));
      const argv = ['--url', server.url, '--secret', TEST_SECRET, '--duration', '1', '--rate', '200', '--subscribers', '2', '--scenario', scenario];
      expect(await main([...argv, '--report', join(dir, 'r.json'), '--html', join(dir, 'r.html')])).toBe(0);
      const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
      for (const f of REQUIRED_FIELDS) expect(report).toHaveProperty(f);
      expect(report.sent).toBe(200);
      expect(report.sent).toBe(report.acked + report.errors);
      expect(report.acked).toBeGreaterThan(150);
      expect(report.config.scenario).toBe(scenario);
      expect(readFileSync(join(dir, 'r.html'), 'utf8')).toMatch(/<svg /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
