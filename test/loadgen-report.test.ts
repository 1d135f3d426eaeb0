// The loadgen's flags (loopback only), its JSON report, summary table and HTML report.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main as cli, type CliIO } from '../cli/mod.ts';
import { verifyToken } from '../gateway/mod.ts';
import { renderHtml } from '../loadgen/html.ts';
import type { IngestCounts } from '../loadgen/ingest.ts';
import { LatencyRecorder } from '../loadgen/latency.ts';
import { isLoopback, readOptions, type LoadgenOptions } from '../loadgen/options.ts';
import { REQUIRED_FIELDS, buildReport, summaryTable } from '../loadgen/report.ts';
import { parseScenario } from '../loadgen/scenario.ts';

function captureIO(): CliIO & { lines: string[] } {
  const lines: string[] = [];
  return { env: {}, lines, out: (l) => lines.push(l), err: (l) => lines.push(l) };
}

describe('loadgen flags', () => {
  it('accepts loopback hosts only', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', 'LOCALHOST']) expect(isLoopback(h)).toBe(true);
    for (const h of ['10.0.0.1', '128.0.0.1', 'example.com', '127.0.0.256', '0.0.0.0', '[::2]', 'localhost.evil.com']) expect(isLoopback(h)).toBe(false);
  });

  it('refuses a non-loopback URL with a clear error and exit code 2', async () => {
    const io = captureIO();
    expect(await cli(['loadgen', '--url', 'http://10.0.0.1:8080', '--token', 't'], io)).toBe(2);
    expect(io.lines.join('\n')).toMatch(/10\.0\.0\.1 is not a loopback address/);
    const io2 = captureIO();
    expect(await cli(['loadgen', '--rate', '5'], io2)).toBe(2);
    expect(io2.lines.join('\n')).toMatch(/--url is required/);
  });

  it('reads the flags, and mints an ingest token from --secret', () => {
    const o = readOptions(['--url', 'http://127.0.0.1:9/x', '--duration', '2.5', '--rate', '500', '--subscribers', '5', '--skus', '50', '--secret', 'shh', '--format', 'msgpack', '--batch', '20', '--connections', '8'], {}) as LoadgenOptions;
    expect(o).toMatchObject({ url: 'http://127.0.0.1:9', durationS: 2.5, rate: 500, subscribers: 5, skus: 50, format: 'msgpack', batch: 20, connections: 8, scenario: 'stock' });
    expect(verifyToken(o.token, 'shh')).toMatchObject({ ok: true, claims: { role: 'ingest' } });
    expect(() => readOptions(['--url', 'http://127.0.0.1:9', '--rate', 'fast', '--token', 't'], {})).toThrow(/--rate must be a number/);
  });

  it("uses the secret in the server's data dir, and never creates one", () => {
    const dir = mkdtempSync(join(tmpdir(), 'omni-loadgen-secret-'));
    try {
      const url = ['--url', 'http://localhost:9'];
      expect(() => readOptions([...url, '--data', dir], {})).toThrow(/holds no secret/);
      expect(existsSync(join(dir, 'secret'))).toBe(false);
      writeFileSync(join(dir, 'secret'), 'from-file\n');
      const o = readOptions(url, { OMNI_DATA: dir }) as LoadgenOptions;
      expect(verifyToken(o.token, 'from-file').ok).toBe(true);
      expect(verifyToken(o.subscriberToken!, 'from-file')).toMatchObject({ ok: true, claims: { role: 'customer' } });
      // A given token is used as is; subscribers then connect anonymously.
      const given = readOptions([...url, '--token', 'T', '--data', join(dir, 'none')], {}) as LoadgenOptions;
      expect(given.token).toBe('T');
      expect(given.subscriberToken).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks a scenario file', () => {
    expect(parseScenario({ mix: { 'stock.sold': 2, 'stock.received': 1 }, skus: 10, locations: 2 }, 'f')).toEqual({ mix: { 'stock.sold': 2, 'stock.received': 1 }, skus: 10, locations: 2 });
    expect(() => parseScenario({ mix: { 'order.placed': 1 }, skus: 10, locations: 2 }, 'f')).toThrow(/not one of/);
    expect(() => parseScenario({ mix: { 'stock.sold': 1 }, skus: 0, locations: 2 }, 'f')).toThrow(/"skus"/);
  });
});

function sampleReport() {
  const ack = new LatencyRecorder();
  const push = new LatencyRecorder();
  for (let i = 1; i <= 1000; i++) {
    ack.recordSince(0, i / 100);
    push.recordSince(0, i / 50);
  }
  const counts: IngestCounts = { sent: 1000, acked: 990, errors: 10, unsent: 0, requests: 40, failedRequests: 0, inFlight: 0, waiting: 0, errorCodes: { insufficient_stock: 10 }, overloadedTicks: 0, maxWaiting: 0 };
  const options = { url: 'http://127.0.0.1:1', durationS: 2, rate: 500, subscribers: 5, skus: 50, scenario: 'stock', token: 't', batch: 500, format: 'json', connections: 8, tickMs: 5, progress: false } as LoadgenOptions;
  return buildReport({
    options,
    scenario: 'stock',
    counts,
    ack,
    push,
    subs: { clients: 5, connected: 5, snapshots: 12, received: 1000, errors: 0, perClient: [200, 200, 200, 200, 200], push, workers: 0 },
    wallMs: 2000,
    loadgenCpu: 0.9,
    tickLag: new LatencyRecorder(),
    timeline: [
      { t: 1, sent: 500, acked: 490, received: 480, ackP50: 5, ackP99: 9, pushP99: 19, errors: 4, inFlight: 1, connected: 5 },
      { t: 2, sent: 500, acked: 500, received: 520, ackP50: 5, ackP99: 9, pushP99: 19, errors: 10, inFlight: 0, connected: 5 },
    ],
    warnings: ['the load generator used 90% of a core: it may be the bottleneck'],
    loadAverage: [0.5, 0.7],
    idPrefix: 'lg-test-abcdef',
    subscribers: 5,
  });
}

describe('loadgen report', () => {
  it('holds the headline fields', () => {
    const r = sampleReport();
    for (const f of REQUIRED_FIELDS) expect(r).toHaveProperty(f);
    for (const kind of ['ack', 'push'] as const) for (const p of ['p50', 'p99', 'p999', 'max']) expect(typeof r.latencyMs[kind][p as 'p50']).toBe('number');
    expect(r).toMatchObject({ sent: 1000, acked: 990, errors: 10, received: 1000, durationS: 2, eventsPerS: 495, messagesPerS: 500, loadgenCpu: 0.9 });
    expect(r.latencyMs.ack.p50).toBeCloseTo(5, 1);
    expect(r.latencyMs.push.p99).toBeCloseTo(19.8, 0);
    expect(r.latencyMs.ack.max).toBeCloseTo(10, 1);
    // Round-trips through JSON unchanged.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('prints a summary table', () => {
    const t = summaryTable(sampleReport());
    expect(t).toMatch(/sent 1,000, acked 990, errors 10/);
    expect(t).toMatch(/ack latency +p50 5\.\d+ ms, p99 9\.\d+ ms/);
    expect(t).toMatch(/CPU 90% of a core/);
    expect(t).toMatch(/warning .*bottleneck/);
  });

  it('renders a self-contained HTML report with inline SVG charts', () => {
    const html = renderHtml(sampleReport());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toMatch(/Latency by percentile/);
    expect(html).toMatch(/Throughput per second/);
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|url\(/i);
    expect(html).not.toMatch(/NaN|Infinity/);
  });
});
