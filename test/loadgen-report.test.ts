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
import type { DeskFinal } from '../loadgen/desk-group.ts';
import { REQUIRED_FIELDS, buildReport, summaryRows, summaryTable, type ReportInput } from '../loadgen/report.ts';
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

const sampleOptions = { url: 'http://127.0.0.1:1', durationS: 2, rate: 500, subscribers: 5, skus: 50, scenario: 'stock', token: 't', batch: 500, format: 'json', connections: 8, tickMs: 5, progress: false } as LoadgenOptions;

function recorder(n: number, scaleMs: number): LatencyRecorder {
  const r = new LatencyRecorder();
  for (let i = 1; i <= n; i++) r.recordSince(0, (i / n) * scaleMs);
  return r;
}

/** A stock run's report; `over` makes it an omnichannel or a service run. */
function sampleReport(over: Partial<ReportInput> = {}) {
  const ack = recorder(1000, 10);
  const push = recorder(1000, 20);
  const counts: IngestCounts = { sent: 1000, acked: 990, errors: 10, unsent: 0, requests: 40, failedRequests: 0, inFlight: 0, waiting: 0, errorCodes: { insufficient_stock: 10 }, overloadedTicks: 0, maxWaiting: 0 };
  return buildReport({
    options: sampleOptions,
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
    ...over,
  });
}

/** Agent desks that chatted: offer, assign and chat latencies and every desk count. */
function serviceRun(): Partial<ReportInput> {
  const none = new LatencyRecorder();
  const desks: DeskFinal = {
    desks: 12, ready: 12, requestsOffered: 1234, offers: 1250, assigned: 1233, completed: 1232, revoked: 16, errors: 1, errorSamples: ['accept refused: no_offer'],
    offer: recorder(1234, 45), assign: recorder(1233, 7), chat: { toCustomer: 2402, toAgent: 2398, skipped: 33 }, chatLatency: recorder(4800, 3),
  };
  return {
    scenario: 'service',
    options: { ...sampleOptions, scenario: 'service', subscribers: 10, chatMessages: 2 },
    subscribers: 0,
    push: none,
    subs: { clients: 0, connected: 0, snapshots: 0, received: 0, errors: 0, perClient: [], push: none, workers: 0 },
    timeline: [1, 2, 3].map((t) => ({ t, sent: 411, acked: 411, received: 0, ackP50: 5, ackP99: 9, pushP99: 0, errors: 0, inFlight: 0, connected: 0 })),
    desks,
    cleanup: { steps: [{ type: 'service.completed', sent: 1234, applied: 2 }, { type: 'agent.offline', sent: 12, applied: 12 }], unexpected: {}, kept: '1,234 completed requests and their service topics; 12 offline agents' },
  };
}

/** Storefront, kiosk and member subscribers, counted per topic family. */
function omnichannelRun(): Partial<ReportInput> {
  const push = recorder(1777, 30);
  return {
    scenario: 'omnichannel',
    options: { ...sampleOptions, scenario: 'omnichannel', subscribers: 40 },
    subscribers: 40,
    push,
    subs: { clients: 40, connected: 40, snapshots: 161, received: 1777, errors: 2, perClient: [], push, workers: 1, receivedByFamily: { stock: 1701, kiosk: 43, recs: 33 }, conflated: 7, seqErrors: 0, errorSamples: ['lost'] },
    cleanup: { steps: [{ type: 'order.cancelled', sent: 806, applied: 805 }, { type: 'stock.release', sent: 1147, applied: 1146 }, { type: 'stock.adjusted', sent: 11000, applied: 11000 }], unexpected: { http_503: 5 }, kept: '22 locations (no event removes one); 11,000 stock rows at 0' },
  };
}

/** The rows of the HTML report's table, as text. */
function htmlRows(html: string): Array<[string, string]> {
  const text = (s: string) => s.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  return [...html.matchAll(/<tr[^>]*><th>(.*?)<\/th><td>(.*?)<\/td><\/tr>/g)].map((m) => [text(m[1]), text(m[2])]);
}

/** 1, 2, 2.5 or 5 × 10^k. */
const nice = (v: number) => [1, 2, 2.5, 5, 10].some((m) => Math.abs(v / 10 ** Math.floor(Math.log10(v)) - m) < 1e-9);

/** Ticks are round: equal steps of a nice size from a multiple of it (linear), or nice values (log). */
const isRound = (ticks: number[]) => (v: number, i: number) => {
  const step = ticks[1] - ticks[0];
  const linear = ticks.every((t, k) => k === 0 || Math.abs(t - ticks[k - 1] - step) < 1e-9);
  if (linear) return nice(step) && Math.abs(v / step - Math.round(v / step)) < 1e-9;
  return i >= 0 && v > 0 && nice(v);
};

/** Every figure (number) in a text, as written. */
const figures = (text: string) => text.match(/\d[\d,]*(?:\.\d+)?/g) ?? [];

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

  it.each([
    ['stock', {}],
    ['service', serviceRun()],
    ['omnichannel', omnichannelRun()],
  ] as const)('the HTML of a %s run shows every row of the summary, with every figure', (_, over) => {
    const report = sampleReport(over);
    const html = renderHtml(report);
    const rows = htmlRows(html);
    expect(rows).toEqual(summaryRows(report));
    const table = rows.map(([k, v]) => `${k} ${v}`).join('\n');
    const summary = summaryTable(report);
    expect(figures(table)).toEqual(figures(summary));
    expect(figures(summary).length).toBeGreaterThan(20);
  });

  it('the service run: offer, assign and chat latencies, the desks and the chat counts are in the HTML', () => {
    const rows = Object.fromEntries(htmlRows(renderHtml(sampleReport(serviceRun()))));
    expect(rows['offer latency']).toMatch(/p50 22\.\d ms, .* \(n=1,234\)/);
    expect(rows['assign latency']).toMatch(/\(n=1,233\)/);
    expect(rows['chat latency']).toMatch(/\(n=4,800\)/);
    expect(rows.desks).toBe('12/12 connected, 1,234 requests offered (1,250 offers, 16 revoked), 1,233 assigned, 1,232 completed, 1 errors');
    expect(rows.chat).toBe('2,402 messages to customers, 2,398 to agents, 33 assigned requests without a free customer connection');
    expect(rows.target).toMatch(/, 0 subscribers, /);
    expect(rows.cleanup).toMatch(/^service\.completed 1,234 \(2 applied\), agent\.offline 12 \(12 applied\); kept: /);
  });

  it('the omnichannel run: subscribers and each topic family are in the HTML', () => {
    const rows = Object.fromEntries(htmlRows(renderHtml(sampleReport(omnichannelRun()))));
    expect(rows.target).toMatch(/scenario omnichannel, 500 events\/s for 2 s, 40 subscribers, json, names lg-test-abcdef-\*/);
    expect(rows.throughput).toMatch(/\(1,777 in 2\.0 s: stock 1,701, kiosk 43, recs 33\)/);
    expect(rows.subscribers).toBe('161 snapshots, 7 seq jumps (conflated), 0 seq errors, 2 errors');
    expect(rows.cleanup).toMatch(/refused \{"http_503":5\}/);
  });

  it('draws no empty series, keeps legends outside the plots, uses round ticks and the page width', () => {
    const html = renderHtml(sampleReport(serviceRun()));
    const [latency, throughput] = html.split('<figure>').slice(1);
    // Service: no subscribers, so no push curve and no pushed/s line, each said so in its legend.
    expect(latency.match(/<path /g)).toHaveLength(4);
    expect(latency).toMatch(/push \(update\.ts → received\): not drawn, this run had no subscribers/);
    expect(throughput.match(/<path /g)).toHaveLength(2);
    expect(throughput).toMatch(/messages pushed\/s: not drawn, this run had no subscribers/);
    for (const figure of [latency, throughput]) {
      const svg = figure.slice(figure.indexOf('<svg'));
      // The legend is HTML before the chart; inside the chart only tick and axis labels.
      expect(figure.indexOf('class="legend"')).toBeLessThan(figure.indexOf('<svg'));
      expect(svg).not.toMatch(/ack \(|events sent/);
      expect(svg).not.toMatch(/<svg[^>]* width=/);
      const yTicks = [...svg.matchAll(/<text x="64" [^>]*>([\d,.]+)<\/text>/g)].map((m) => Number(m[1].replace(/,/g, '')));
      expect(yTicks.length).toBeGreaterThanOrEqual(3);
      expect(yTicks.every(isRound(yTicks))).toBe(true);
    }
    expect(html).toMatch(/svg\{width:100%;height:auto/);
  });
});
