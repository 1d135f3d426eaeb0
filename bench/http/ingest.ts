// `omni bench http`: POST /v1/events throughput of a real `omni serve` child process, driven
// closed-loop over C keep-alive connections with pre-encoded bodies (msgpack and/or JSON).
// The load generator reports its own CPU use so a saturated client is visible as such.

import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { pack, unpack } from 'msgpackr';
import { signToken } from '../../gateway/mod.ts';
import { describeFlags, readFlags, readWorkerList, rotated, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtLatency, fmtMs, latencyHistogram, printTable, summariseLatency, type LatencySummary, type Spread } from '../shared/report.ts';
import { freshDir, processCpuSeconds, removeDir, startServer } from '../shared/server-process.ts';
import { ThreadCpuMonitor, fmtThreadCpu, threadCosts, type ThreadCpu } from '../shared/thread-cpu.ts';
import { StockWorkload, chunked, countErrors, locationEvents, reservationsIn, seedEvents } from '../../loadgen/mod.ts';

type Format = 'msgpack' | 'json';

export const HTTP_FLAGS: FlagSpec[] = [
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured time per format (default 10)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'warm-up per format, not counted (default 3)' },
  { name: 'format', kind: 'value', valueName: 'msgpack|json|both', help: 'body format (default both)' },
  { name: 'batch', kind: 'value', valueName: 'N', help: 'events per request (default 500)' },
  { name: 'connections', kind: 'value', valueName: 'C', help: 'keep-alive connections, one request in flight each (default 32)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs (default 10000)' },
  { name: 'locations', kind: 'value', valueName: 'L', help: 'locations (default 10)' },
  { name: 'durability', kind: 'value', valueName: 'MODE', help: 'the server\'s --durability: fsync | commit | none (default fsync, as omni serve)' },
  { name: 'workers', kind: 'value', valueName: '1|2|1,2', help: "the server's --workers; 1,2: both, alternating run by run (default: the server's own, the number of cores)" },
  { name: 'max-events', kind: 'value', valueName: 'N', help: 'most events pre-encoded for the measured phase (default 3000000)' },
];

export const HTTP_HELP = `Usage: omni bench http [flags]

Spawns "omni serve" on a fresh data dir (its own process), mints an ingest token and drives
POST /v1/events closed-loop: C keep-alive connections, each sending a pre-encoded batch and
waiting for its answer (sent once durable). Reports events/s per format, request latency and
the CPU used by this load generator and by the server.

Flags:
${describeFlags(HTTP_FLAGS)}`;

export interface HttpBenchOptions {
  seconds: number;
  warmupSeconds: number;
  formats: Format[];
  batch: number;
  connections: number;
  skus: number;
  locations: number;
  durability: 'fsync' | 'commit' | 'none';
  /** The server's --workers to compare; undefined: the server's default. */
  workers?: number[];
  maxEvents: number;
}

export function readHttpOptions(argv: readonly string[]): HttpBenchOptions | 'help' {
  const f = readFlags(argv, HTTP_FLAGS);
  if (f.help) return 'help';
  const format = f.choice('format', 'both', ['msgpack', 'json', 'both'] as const);
  return {
    seconds: f.num('seconds', 10, 0.5, 3600),
    warmupSeconds: f.num('warmup', 3, 0, 600),
    formats: format === 'both' ? ['msgpack', 'json'] : [format],
    batch: f.int('batch', 500, 1, 10_000),
    connections: f.int('connections', 32, 1, 1024),
    skus: f.int('skus', 10_000, 1, 10_000_000),
    locations: f.int('locations', 10, 1, 1000),
    durability: f.choice('durability', 'fsync', ['fsync', 'commit', 'none'] as const),
    maxEvents: f.int('max-events', 3_000_000, 10_000, 50_000_000),
    workers: f.string('workers') === undefined ? undefined : readWorkerList(f.string('workers'), []),
  };
}

const CONTENT_TYPE: Record<Format, string> = { msgpack: 'application/msgpack', json: 'application/json' };

interface Target {
  port: number;
  token: string;
  agent: Agent;
}

function post(t: Target, body: Buffer, format: Format): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: t.port,
        method: 'POST',
        path: '/v1/events',
        agent: t.agent,
        headers: { 'content-type': CONTENT_TYPE[format], 'content-length': body.length, authorization: `Bearer ${t.token}` },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parts.length === 1 ? parts[0] : Buffer.concat(parts) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('POST /v1/events: no answer within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

type Answer = { results?: Array<{ ok: boolean; error?: { code: string } }> };

function decodeAnswer(body: Buffer, format: Format): Answer {
  return (format === 'msgpack' ? unpack(body) : JSON.parse(body.toString('utf8'))) as Answer;
}

function encode(events: unknown[], format: Format): Buffer {
  return format === 'msgpack' ? pack(events) : Buffer.from(JSON.stringify(events));
}

/** Closed loop over pre-encoded bodies: one request in flight per connection. */
async function drive(t: Target, bodies: Buffer[], batch: number, format: Format, connections: number, seconds: number) {
  // Returns `sent`: how many bodies went out (the rest were made but never sent).
  const hist = latencyHistogram();
  const byCode = new Map<string, number>();
  let next = 0;
  let events = 0;
  let requests = 0;
  let rejected = 0;
  let failed = 0;
  let firstFailure = '';
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let last = start;
  let broken = false;
  const worker = async () => {
    while (!broken && next < bodies.length && performance.now() < deadline) {
      const body = bodies[next++];
      const sent = performance.now();
      const res = await post(t, body, format).catch((err: unknown) => {
        broken = true; // a connection error ends the run: the figures would not be comparable
        throw err;
      });
      last = performance.now();
      hist.recordValue(Math.max(1, Math.round((last - sent) * 1000)));
      requests++;
      if (res.status !== 200) {
        failed++;
        firstFailure ||= `${res.status} ${res.body.toString('utf8').slice(0, 200)}`;
        continue;
      }
      const answer = decodeAnswer(res.body, format);
      events += answer.results?.length ?? 0;
      rejected += countErrors(answer.results ?? [], byCode);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const cpu = process.cpuUsage(cpuStart);
  const ms = last - start;
  if (failed > 0 && requests === failed) throw new Error(`every request failed, e.g. ${firstFailure}`);
  return {
    events,
    requests,
    failed,
    firstFailure,
    rejected,
    rejectedByCode: Object.fromEntries(byCode),
    seconds: ms / 1000,
    eventsPerS: events / (ms / 1000),
    latency: summariseLatency(hist),
    loadgenCpuCores: (cpu.user + cpu.system) / 1000 / ms,
    exhausted: next >= bodies.length && ms < seconds * 1000,
    sent: next,
    batch,
  };
}

export interface FormatResult {
  format: Format;
  workers?: number;
  /** The server's threads over the measured phase, busiest first. */
  serverThreads: ThreadCpu[];
  eventsPerS: number;
  requestsPerS: number;
  events: number;
  seconds: number;
  meanBodyBytes: number;
  latency: LatencySummary;
  loadgenCpuCores: number;
  serverCpuCores?: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  failedRequests: number;
  exhausted: boolean;
  warmupEventsPerS: number;
}

async function measureFormat(format: Format, workers: number | undefined, o: HttpBenchOptions, runNo: number): Promise<FormatResult> {
  const dir = freshDir(`http-${format}`);
  const secret = randomBytes(32).toString('base64url');
  const server = startServer({ dataDir: dir, secret, durability: o.durability, workers });
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections, maxFreeSockets: o.connections });
  try {
    const url = await server.listening;
    const t: Target = { port: Number(new URL(url).port), token: signToken({ sub: 'bench', role: 'ingest', exp: Math.floor(Date.now() / 1000) + 24 * 3600 }, secret), agent };
    const prefix = `h${runNo}${format[0]}${workers ?? ''}`;
    // Setup (not measured): locations, then every row seeded, in large JSON bodies.
    const setup = [locationEvents(o.locations, prefix), ...chunked(seedEvents(o.skus, o.locations, prefix), 5000)];
    for (const events of setup) {
      const res = await post(t, encode(events, 'json'), 'json');
      const answer = res.status === 200 ? decodeAnswer(res.body, 'json') : undefined;
      const bad = answer?.results?.filter((r) => !r.ok).length ?? 0;
      if (res.status !== 200 || bad > 0) throw new Error(`setup failed: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
    }
    const wl = new StockWorkload({ skus: o.skus, locations: o.locations, dist: 'zipf', idPrefix: prefix, releaseLag: o.batch * o.connections * 2 });
    // Bodies are encoded up front; the reservations each opens are kept to take back unsent ones.
    const bodiesOf = (n: number) => {
      const chunks = wl.chunks(n, o.batch);
      return { bodies: chunks.map((c) => encode(c, format)), reserves: chunks.map(reservationsIn) };
    };

    let warmRate = 0;
    const warmEnd = performance.now() + o.warmupSeconds * 1000;
    do {
      const round = bodiesOf(Math.min(100_000, o.maxEvents));
      const r = await drive(t, round.bodies, o.batch, format, o.connections, Math.max(0.2, (warmEnd - performance.now()) / 1000));
      wl.forgetReservations(round.reserves.slice(r.sent).flat());
      warmRate = r.eventsPerS;
    } while (performance.now() < warmEnd);

    const poolEvents = Math.min(o.maxEvents, Math.ceil(warmRate * o.seconds * 2) + o.batch * o.connections * 2);
    const { bodies } = bodiesOf(poolEvents);
    const meanBodyBytes = bodies.reduce((s, b) => s + b.length, 0) / bodies.length;
    const serverCpu0 = processCpuSeconds(server.pid);
    const threadCpu = new ThreadCpuMonitor(server.pid);
    const r = await drive(t, bodies, o.batch, format, o.connections, o.seconds);
    const serverThreads = threadCpu.stop();
    const serverCpu1 = processCpuSeconds(server.pid);
    return {
      format,
      workers,
      serverThreads,
      eventsPerS: r.eventsPerS,
      requestsPerS: r.requests / r.seconds,
      events: r.events,
      seconds: r.seconds,
      meanBodyBytes,
      latency: r.latency,
      loadgenCpuCores: r.loadgenCpuCores,
      serverCpuCores: serverCpu0 !== undefined && serverCpu1 !== undefined ? (serverCpu1 - serverCpu0) / r.seconds : undefined,
      rejected: r.rejected,
      rejectedByCode: r.rejectedByCode,
      failedRequests: r.failed,
      exhausted: r.exhausted,
      warmupEventsPerS: warmRate,
    };
  } catch (error) {
    const log = server.stderr().trim();
    if (log) console.error(`omni serve said:\n${log}`);
    throw error;
  } finally {
    agent.destroy();
    await server.stop();
    removeDir(dir);
  }
}

export interface HttpBenchResult {
  options: HttpBenchOptions;
  formats: FormatResult[];
}

export async function runHttpBench(o: HttpBenchOptions, runNo = 0): Promise<HttpBenchResult> {
  const formats: FormatResult[] = [];
  // With several --workers, each run starts at another variant (ABBA over runs).
  const variants = (o.workers ?? [undefined]).flatMap((w) => o.formats.map((format) => [w, format] as const));
  for (const [workers, format] of rotated(variants, runNo)) {
    console.log(`\n[${format}${workers ? `, --workers ${workers}` : ''}] ${o.connections} connections × ${o.batch} events/request, server durability ${o.durability}`);
    const r = await measureFormat(format, workers, o, runNo);
    console.log(`  max       : ${fmtInt(r.eventsPerS)} events/s (${fmtInt(r.requestsPerS)} requests/s; ${fmtInt(r.events)} events in ${r.seconds.toFixed(2)} s; body ${fmtInt(r.meanBodyBytes)} bytes)`);
    console.log(`  request   : ${fmtLatency(r.latency)}`);
    console.log(`  CPU       : load generator ${(r.loadgenCpuCores * 100).toFixed(0)}% of a core, server ${r.serverCpuCores === undefined ? 'n/a' : `${(r.serverCpuCores * 100).toFixed(0)}%`} of a core`);
    console.log(`  threads   : server ${fmtThreadCpu(r.serverThreads, r.eventsPerS)}`);
    console.log(`  answers   : ${fmtInt(r.rejected)} events rejected${r.rejected ? ` ${JSON.stringify(r.rejectedByCode)}` : ''}, ${r.failedRequests} requests failed; warm-up ${fmtInt(r.warmupEventsPerS)} events/s; load average ${loadavg()[0].toFixed(2)}`);
    if (r.exhausted) console.log(`  note      : the pre-encoded bodies ran out after ${r.seconds.toFixed(2)} s (raise --max-events)`);
    if (r.loadgenCpuCores > 0.85) console.log('  note      : the load generator used most of a core: it may be the bottleneck');
    formats.push(r);
  }
  if (formats.length > 1) {
    console.log('');
    printTable([
      ['variant', 'events/s', 'req p50 ms', 'req p99 ms', 'loadgen CPU', 'server CPU'],
      ...formats.map((r) => [variantKey(r), fmtInt(r.eventsPerS), fmtMs(r.latency.p50Ms), fmtMs(r.latency.p99Ms), `${(r.loadgenCpuCores * 100).toFixed(0)}%`, r.serverCpuCores === undefined ? 'n/a' : `${(r.serverCpuCores * 100).toFixed(0)}%`]),
    ]);
  }
  return { options: o, formats };
}

/** `msgpack`, or `w2.msgpack` when the server's --workers was given. */
const variantKey = (r: FormatResult) => (r.workers ? `w${r.workers}.${r.format}` : r.format);

export function httpHeadline(r: HttpBenchResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of r.formats) {
    const k = variantKey(f);
    out[`${k}.eventsPerS`] = f.eventsPerS;
    out[`${k}.requestP50Ms`] = f.latency.p50Ms;
    out[`${k}.requestP99Ms`] = f.latency.p99Ms;
    out[`${k}.loadgenCpuPct`] = f.loadgenCpuCores * 100;
    out[`${k}.serverCpuPct`] = (f.serverCpuCores ?? NaN) * 100;
    const costs = threadCosts(f.serverThreads, f.eventsPerS);
    out[`${k}.serverMainThreadUsPerEvent`] = costs.mainUsPerEvent;
    out[`${k}.serverBusiestOtherThreadUsPerEvent`] = costs.otherUsPerEvent;
  }
  return out;
}

/** --workers 2 ÷ --workers 1 per format, from the medians over --runs. */
export function httpDerived(spreads: Record<string, Spread>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const format of ['msgpack', 'json']) {
    const [one, two] = [spreads[`w1.${format}.eventsPerS`]?.median, spreads[`w2.${format}.eventsPerS`]?.median];
    if (one && two) out[`${format}.workers2VsWorkers1`] = two / one;
  }
  return out;
}
