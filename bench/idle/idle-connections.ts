// `omni bench idle-conns`: server memory per idle WebSocket connection. Spawns the server as a
// child process, reads its resident set (VmRSS) after a warm-up, opens N connections with the
// load generator's wire client — each subscribed to one stock/<sku> topic, or to none — waits
// until every one is subscribed, lets the server settle, reads VmRSS again and reports ΔRSS / N
// as left (a real server gets no forced GC), then the same after a full GC run in the child
// through its inspector (inspector-gc.ts). Issue target: ≤ 4 KiB per idle connection at 10,000
// connections.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openOmniSubscriber, type OmniSubscriber, type SubscriberSpec, type SubscriberTally } from '../../loadgen/mod.ts';
import { signToken } from '../../gateway/mod.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, median, printTable } from '../shared/report.ts';
import { INSPECT_FLAG, collectGarbage, type HeapAfterGc } from './inspector-gc.ts';
import { freshDir, removeDir, startServer, type ServerProcess } from '../shared/server-process.ts';

export const IDLE_FLAGS: FlagSpec[] = [
  { name: 'connections', kind: 'value', valueName: 'N', help: 'idle WebSocket connections to open (default 10000)' },
  { name: 'subscriptions', kind: 'value', valueName: 'one|none|both', help: 'each connection on one stock/<sku> topic, on none, or both variants (default both)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'connection i watches stock/IDLE-<i mod N> (default 10000: a topic each)' },
  { name: 'settle', kind: 'value', valueName: 'MS', help: 'wait before each RSS reading (default 2000)' },
  { name: 'in-flight', kind: 'value', valueName: 'N', help: 'connections opening at once (default 200)' },
];

export const IDLE_HELP = `Usage: omni bench idle-conns [flags]

For each variant, a fresh "omni serve" child process: warm-up (100 connections opened,
subscribed and closed), RSS read from /proc/PID/status, then N WebSocket connections opened
(at most --in-flight at once) and subscribed, RSS read again after --settle ms. Reports
ΔRSS / N in KiB (issue target: ≤ 4 KiB per idle connection at 10,000). Each RSS figure is the
median of 5 readings 200 ms apart.

Flags:
${describeFlags(IDLE_FLAGS)}`;

export type Subscriptions = 'one' | 'none';

export interface IdleOptions {
  connections: number;
  variants: Subscriptions[];
  skus: number;
  settleMs: number;
  inFlight: number;
}

export function readIdleOptions(argv: readonly string[]): IdleOptions | 'help' {
  const f = readFlags(argv, IDLE_FLAGS);
  if (f.help) return 'help';
  const which = f.choice('subscriptions', 'both', ['one', 'none', 'both'] as const);
  return {
    connections: f.int('connections', 10_000, 1, 60_000),
    variants: which === 'both' ? ['one', 'none'] : [which],
    skus: f.int('skus', 10_000, 1, 10_000_000),
    settleMs: f.int('settle', 2000, 0, 60_000),
    inFlight: f.int('in-flight', 200, 1, 10_000),
  };
}

/** A server to measure: how to start it, and how a subscriber talks to it. */
export interface IdleTarget {
  label: string;
  /** Starts the server; its `listening` resolves with the http:// URL. */
  spawn(): ServerProcess;
  /** Token for the subscribers, if the server wants one. */
  token?: string;
  /** Opens one subscriber (default: omnistream's /v1/ws protocol; socketio-subscriber.ts fits too). */
  open?: (spec: SubscriberSpec, tally: SubscriberTally) => OmniSubscriber;
  /** What the server says of itself, read with each RSS figure: tells JS heap from native memory. */
  selfReport?(url: string): Promise<SelfReport>;
  /** Runs a full GC in the server (bench/idle/inspector-gc.ts), for a second reading of what it retains. */
  collectGarbage?(server: ServerProcess): Promise<HeapAfterGc>;
  /** Removes what spawn left behind (a data dir), after the server stopped. */
  cleanUp?(): void;
}

export interface SelfReport {
  heapUsedKiB?: number;
  connections?: number;
}

export interface IdleResult {
  target: string;
  subscriptions: Subscriptions;
  connections: number;
  /** Connections open and subscribed when RSS was read. */
  ready: number;
  errors: number;
  firstError?: string;
  openSeconds: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  kibPerConnection: number;
  /** Of kibPerConnection, the part in file-backed pages (LMDB's map): page cache, not the server's own. */
  fileKibPerConnection: number;
  /** The server's own figures before and after, when the target reports them. */
  before?: SelfReport;
  after?: SelfReport;
  /** Of kibPerConnection, the part that is live-or-not-yet-collected JS heap. */
  heapKibPerConnection?: number;
  /** The same after a full GC in the server before each reading: what the connections retain. */
  afterGc?: { kibPerConnection: number; heapKibPerConnection: number };
}

const WARM_UP_CONNECTIONS = 100;
const RSS_READINGS = 5;
const RSS_READING_GAP_MS = 200;
const READY_TIMEOUT_MS = 120_000;

/** Measures one target at one variant: spawn, warm up, baseline, N connections, reading, stop. */
export async function measureIdleConnections(target: IdleTarget, subscriptions: Subscriptions, o: IdleOptions): Promise<IdleResult> {
  const server = target.spawn();
  try {
    const url = await server.listening;
    const open = target.open ?? openOmniSubscriber;
    const topicOf = (i: number) => (subscriptions === 'one' ? [`stock/IDLE-${i % o.skus}`] : []);
    const spec = (i: number): SubscriberSpec => ({ url, token: target.token, format: 'json', topics: topicOf(i), client: i });

    const warm = await openAll(WARM_UP_CONNECTIONS, spec, open, o.inFlight);
    await warm.closeAll();
    await sleep(o.settleMs);
    const rssBefore = await readRss(server.pid);
    const before = await target.selfReport?.(url);
    // Read last, so the GC does not flatter the plain reading above.
    const gcBefore = target.collectGarbage ? { heap: await target.collectGarbage(server), rss: await readRss(server.pid) } : undefined;

    const started = performance.now();
    const conns = await openAll(o.connections, spec, open, o.inFlight);
    const openSeconds = (performance.now() - started) / 1000;
    await sleep(o.settleMs);
    const rssAfter = await readRss(server.pid);
    const after = await target.selfReport?.(url);
    const ready = conns.tally.ready - conns.tally.lost;
    const perConnection = (kib: number) => round(kib / Math.max(1, ready), 2);
    let afterGc: IdleResult['afterGc'];
    if (target.collectGarbage && gcBefore) {
      const heap = await target.collectGarbage(server);
      const rss = await readRss(server.pid);
      afterGc = { kibPerConnection: perConnection(rss.total - gcBefore.rss.total), heapKibPerConnection: perConnection(heap.heapUsedKiB - gcBefore.heap.heapUsedKiB) };
    }
    await conns.closeAll();
    return {
      target: target.label,
      subscriptions,
      connections: o.connections,
      ready,
      errors: conns.tally.errors,
      ...(conns.tally.firstError === undefined ? {} : { firstError: conns.tally.firstError }),
      openSeconds: round(openSeconds, 2),
      rssBeforeKiB: rssBefore.total,
      rssAfterKiB: rssAfter.total,
      kibPerConnection: perConnection(rssAfter.total - rssBefore.total),
      fileKibPerConnection: perConnection(rssAfter.file - rssBefore.file),
      ...(before === undefined || after === undefined ? {} : { before, after }),
      ...(before?.heapUsedKiB === undefined || after?.heapUsedKiB === undefined ? {} : { heapKibPerConnection: perConnection(after.heapUsedKiB - before.heapUsedKiB) }),
      ...(afterGc === undefined ? {} : { afterGc }),
    };
  } finally {
    await server.stop();
    target.cleanUp?.();
  }
}

/** A fresh `omni serve` (durability none: an idle server writes nothing anyway). */
export function omniIdleTarget(): IdleTarget {
  const dir = freshDir('idle');
  const secret = randomBytes(32).toString('base64url');
  return {
    label: 'omni serve',
    spawn: () => startServer({ dataDir: dir, secret, durability: 'none', nodeFlags: [INSPECT_FLAG] }),
    token: signToken({ sub: 'idle-bench', role: 'customer', exp: Math.floor(Date.now() / 1000) + 3600 }, secret),
    selfReport: omniSelfReport,
    collectGarbage: (server) => collectGarbage(server.stderr()),
    cleanUp: () => removeDir(dir),
  };
}

/** JS heap in use and open WebSockets, from the server's GET /metrics. */
async function omniSelfReport(url: string): Promise<SelfReport> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const metric = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m === null ? undefined : Number(m[1]);
  };
  const heap = metric('nodejs_heap_size_used_bytes');
  return { heapUsedKiB: heap === undefined ? undefined : Math.round(heap / 1024), connections: metric('omni_ws_connections') };
}

export async function runIdleBench(o: IdleOptions): Promise<IdleResult[]> {
  const results: IdleResult[] = [];
  for (const variant of o.variants) {
    const r = await measureIdleConnections(omniIdleTarget(), variant, o);
    results.push(r);
    if (r.errors > 0) console.log(`  ${variant}: ${r.errors} connection errors, first: ${r.firstError}`);
  }
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  printTable([
    ['server', 'subscriptions', 'connections', 'ready', 'server counts', 'open+subscribe s', 'RSS before MiB', 'RSS after MiB', 'KiB / connection', 'of it JS heap', 'of it file pages', 'after full GC: KiB / conn', 'of it JS heap', 'target ≤ 4 KiB'],
    ...results.map((r) => [
      r.target,
      r.subscriptions === 'one' ? '1 topic each' : 'none',
      fmtInt(r.connections),
      fmtInt(r.ready),
      r.after?.connections === undefined ? '-' : fmtInt(r.after.connections),
      r.openSeconds.toFixed(1),
      mib(r.rssBeforeKiB),
      mib(r.rssAfterKiB),
      r.kibPerConnection.toFixed(2),
      r.heapKibPerConnection === undefined ? '-' : r.heapKibPerConnection.toFixed(2),
      r.fileKibPerConnection.toFixed(2),
      r.afterGc === undefined ? '-' : r.afterGc.kibPerConnection.toFixed(2),
      r.afterGc === undefined ? '-' : r.afterGc.heapKibPerConnection.toFixed(2),
      r.kibPerConnection <= 4 ? 'met' : 'missed',
    ]),
  ]);
  return results;
}

export function idleHeadline(results: IdleResult[]): Record<string, number> {
  const headline: Record<string, number> = {};
  for (const r of results) {
    const variant = r.subscriptions === 'one' ? 'oneTopic' : 'noTopic';
    headline[`kibPerConnection.${variant}`] = r.kibPerConnection;
    if (r.afterGc) headline[`kibPerConnectionAfterGc.${variant}`] = r.afterGc.kibPerConnection;
  }
  return headline;
}

interface OpenConnections {
  tally: IdleTally;
  closeAll(): Promise<void>;
}

/** Opens `count` subscribers, at most `inFlight` not yet subscribed at once; resolves when all are subscribed or gone. */
async function openAll(count: number, spec: (i: number) => SubscriberSpec, open: NonNullable<IdleTarget['open']>, inFlight: number): Promise<OpenConnections> {
  const tally = new IdleTally();
  const subscribers: OmniSubscriber[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${tally.ready} of ${count} connections subscribed within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    tally.onSettled = () => {
      while (subscribers.length < count && subscribers.length - tally.settled < inFlight) subscribers.push(open(spec(subscribers.length), tally));
      if (tally.settled === count) {
        clearTimeout(timer);
        resolve();
      }
    };
    tally.onSettled();
  });
  return {
    tally,
    async closeAll() {
      for (const s of subscribers) s.close();
      // Every connection reports exactly one close, whether it was open or had failed already.
      await tally.untilClosed(subscribers.length);
    },
  };
}

/** Counts what the idle connections report; a connection settles once subscribed or closed. */
class IdleTally implements SubscriberTally {
  closes = 0;
  ready = 0;
  /** Connections that closed after being ready. */
  lost = 0;
  settled = 0;
  errors = 0;
  firstError: string | undefined;
  onSettled: () => void = () => {};
  private closeWaiter: (() => void) | undefined;

  closed(subscribed: boolean): void {
    this.closes++;
    if (subscribed) this.lost++;
    else this.settle();
    this.closeWaiter?.();
  }
  subscribed(): void {
    this.ready++;
    this.settle();
  }
  error(detail: string): void {
    this.errors++;
    this.firstError ??= detail;
  }
  opened(): void {}
  snapshot(): void {}
  update(): void {}
  conflated(): void {}
  seqError(): void {}

  untilClosed(total: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.closes >= total ? resolve() : (this.closeWaiter = check));
      check();
    });
  }

  private settle(): void {
    this.settled++;
    this.onSettled();
  }
}

interface Rss {
  /** VmRSS: all resident memory. */
  total: number;
  /** RssFile: resident pages of mapped files (LMDB's map, code), shared with the page cache. */
  file: number;
}

/** Medians of a few VmRSS and RssFile readings of a process, in KiB (Linux /proc). */
async function readRss(pid: number): Promise<Rss> {
  const total: number[] = [];
  const file: number[] = [];
  for (let i = 0; i < RSS_READINGS; i++) {
    if (i > 0) await sleep(RSS_READING_GAP_MS);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      if (!m) throw new Error(`no ${name} in /proc/${pid}/status`);
      return Number(m[1]);
    };
    total.push(field('VmRSS'));
    file.push(field('RssFile'));
  }
  return { total: median(total), file: median(file) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
