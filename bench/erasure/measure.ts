// One run of `omni bench erasure`: `omni serve` (a child process) on a fresh data dir gets the
// stores, their stock and the other customers, then the erased customer's history; then the
// other traffic runs open-loop over HTTP (the loadgen's schedule, ingest driver and poster) while
// `customer.erased` is sent on a connection of its own, and the ack latency of that traffic is
// split into before / during / after (windows.ts). Sizes come from the server's /metrics and
// the data dir's files; afterwards the customer's ids, requests and orders are read back.

import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Durability, InputEvent } from '../../engine/mod.ts';
import { signToken } from '../../gateway/mod.ts';
import { IngestDriver, OpenLoopSchedule, chunked, countErrors, epochMs, httpPoster } from '../../loadgen/mod.ts';
import { freshDir, removeDir, startServer } from '../shared/server-process.ts';
import { BackgroundTraffic, customerHistory, storeEventCount, storeWaves, type HistoryShape, type StoreShape } from './history.ts';
import { RewriteWatch } from './rewrite-watch.ts';
import { ErasureWindows, type WindowFigures, type WindowName } from './windows.ts';

export interface ErasureBenchOptions extends HistoryShape, StoreShape {
  /** Other traffic, events a second, from the warm-up to the end of the after window. */
  rate: number;
  /** Most events of the other traffic per request. */
  batch: number;
  connections: number;
  warmupSeconds: number;
  beforeSeconds: number;
  afterSeconds: number;
  durability: Durability;
  /** omni serve --workers; unset, the server's own default. */
  workers?: number;
}

export interface StoreSize {
  /** Keys in the state database (omni_state_entries). */
  stateEntries: number;
  /** Pages in use in the LMDB environment × page size (omni_state_bytes). */
  usedBytes: number;
  /** Every file in the data dir, as the file system counts them. */
  fileBytes: number;
}

/** The store rewrite after the erasure, when the server has one; times from sending the erasure. */
export interface RewriteFigures {
  /** The copy directory first seen (undefined when the rewrite fell between two polls). */
  copyingSeenAfterMs?: number;
  /** data.mdb seen replaced by the copy: the erasure's end in the windows. */
  swappedSeenAfterMs: number;
  /** The rewrite's duration as the engine measured it (/metrics), where the server reports it. */
  engineMs?: number;
}

export interface ErasureRunResult {
  history: { events: number; rejected: number; rejectedByCode: Record<string, number>; counts: ReturnType<typeof customerHistory>['counts']; seconds: number };
  setup: { events: number; seconds: number };
  before: StoreSize;
  after: StoreSize;
  /** Sending `customer.erased` → its answer. */
  answerMs: number;
  answer: unknown;
  rewrite?: RewriteFigures;
  windows: Record<WindowName, WindowFigures>;
  traffic: { ratePerS: number; sent: number; acked: number; errors: number; errorCodes: Record<string, number>; overloadedTicks: number; maxWaiting: number };
  /** Read back after the erasure: what still answers for the customer (all 0 when nothing is left). */
  leftReadable: { ids: number; requests: number; ordersNamingCustomer: number };
}

type HttpPoster = ReturnType<typeof httpPoster>;

const SETUP_CHUNK = 1000;
const SETUP_CONCURRENCY = 4;
/** The loadgen's own tick is 5 ms; 10 puts a few events in each request at the default rate. */
const TICK_MS = 10;
const QUIET_POLL_MS = 250;
/** After the erasure's answer, how long a rewrite may take to start before the server is taken to have none. */
const REWRITE_GRACE_MS = 10_000;

export async function runErasureOnce(o: ErasureBenchOptions, runNo: number, log: (line: string) => void): Promise<ErasureRunResult> {
  const dir = freshDir('erasure');
  const secret = randomBytes(32).toString('base64url');
  const server = startServer({ dataDir: dir, secret, durability: o.durability, workers: o.workers, startTimeoutMs: 120_000 });
  const token = signToken({ sub: 'bench-erasure', role: 'admin', exp: Math.floor(Date.now() / 1000) + 24 * 3600 }, secret);
  let setupPoster: HttpPoster | undefined;
  try {
    const url = await server.listening;
    const prefix = `eb${runNo}`;
    setupPoster = httpPoster(url, token, 'msgpack', SETUP_CONCURRENCY, 600_000);
    const setupStart = performance.now();
    const setupErrors = new Map<string, number>();
    for (const wave of storeWaves(o, prefix)) await postAll(setupPoster, chunked(wave, SETUP_CHUNK), setupErrors);
    if (setupErrors.size > 0) throw new Error(`setup events were rejected: ${JSON.stringify(Object.fromEntries(setupErrors))}`);
    const setup = { events: storeEventCount(o), seconds: (performance.now() - setupStart) / 1000 };
    log(`  store     : ${setup.events.toLocaleString('en-US')} events (stores, stock, ${o.customers.toLocaleString('en-US')} other customers) in ${setup.seconds.toFixed(1)} s`);

    const history = customerHistory(o, o, prefix);
    const historyStart = performance.now();
    const historyErrors = new Map<string, number>();
    // Each wave only once the one before it is answered (messages after their request, and so on),
    // its requests one at a time: activities arriving out of their time order would cut sessions
    // the history does not have.
    for (const wave of history.waves) await postAll(setupPoster, chunked(wave, SETUP_CHUNK), historyErrors, 1);
    const rejected = [...historyErrors.values()].reduce((a, b) => a + b, 0);
    const historyEvents = history.waves.reduce((n, w) => n + w.length, 0);
    const historySeconds = (performance.now() - historyStart) / 1000;
    log(`  history   : ${historyEvents.toLocaleString('en-US')} events of ${history.customer} in ${historySeconds.toFixed(1)} s, ${rejected} rejected${rejected ? ` ${JSON.stringify(Object.fromEntries(historyErrors))}` : ''}`);
    await quiet(url);
    const before = await storeSize(url, dir);

    const measured = await measureErasure(url, dir, token, o, prefix, history.customer);
    await quiet(url);
    const after = await storeSize(url, dir);
    const leftReadable = await readBack(url, token, history);
    return {
      history: { events: historyEvents, rejected, rejectedByCode: Object.fromEntries(historyErrors), counts: history.counts, seconds: historySeconds },
      setup,
      before,
      after,
      ...measured,
      leftReadable,
    };
  } finally {
    setupPoster?.close();
    await server.stop();
    removeDir(dir);
  }
}

/** Posts the chunks, `concurrency` requests at a time; counts refusals by code. */
async function postAll(poster: HttpPoster, chunks: InputEvent[][], errors: Map<string, number>, concurrency = SETUP_CONCURRENCY): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      const answer = await poster.post(chunk);
      if (!answer.results) throw new Error(`setup request failed: ${answer.failure}`);
      countErrors(answer.results, errors);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function measureErasure(url: string, dir: string, token: string, o: ErasureBenchOptions, prefix: string, customer: string) {
  const traffic = new BackgroundTraffic(o, prefix);
  const bg = httpPoster(url, token, 'msgpack', o.connections);
  const eraser = httpPoster(url, token, 'json', 1, 600_000);
  const schedule = new OpenLoopSchedule(epochMs() + 20, o.rate, 24 * 3600);
  const windows = new ErasureWindows(schedule.startMs + o.warmupSeconds * 1000);
  const driver = new IngestDriver({
    schedule,
    next: () => traffic.next(),
    post: bg.post,
    batch: o.batch,
    maxInFlight: o.connections,
    clock: epochMs,
    answered: (ev, result, now) => windows.record(ev.ts!, now, result?.ok === true),
  });
  let ticking = true;
  let watch: RewriteWatch | undefined;
  const ticks = new Promise<void>((resolve) => {
    const tick = () => {
      if (!ticking) return resolve();
      driver.tick();
      setTimeout(tick, TICK_MS);
    };
    setTimeout(tick, Math.max(0, schedule.startMs - epochMs()));
  });
  try {
    await sleep((o.warmupSeconds + o.beforeSeconds) * 1000);
    const rewritesBefore = rewriteMetrics(await metrics(url));
    let answered = () => {};
    watch = new RewriteWatch(dir, new Promise<void>((resolve) => (answered = () => setTimeout(resolve, REWRITE_GRACE_MS))));
    const startMs = epochMs();
    const answer = await eraser.post([{ id: `${prefix}-erase`, type: 'customer.erased', customer }]);
    const answeredMs = epochMs();
    answered();
    if (!answer.results?.[0]?.ok) throw new Error(`customer.erased was not answered ok: ${JSON.stringify(answer.results?.[0] ?? answer.failure)}`);
    const seen = await watch.seen;
    const rewrite: RewriteFigures | undefined = seen && {
      ...(seen.copyingAtMs !== undefined ? { copyingSeenAfterMs: seen.copyingAtMs - startMs } : {}),
      swappedSeenAfterMs: seen.swappedAtMs - startMs,
      ...(rewritesBefore ? { engineMs: await engineRewriteMs(url, rewritesBefore) } : {}),
    };
    const endMs = Math.max(answeredMs, seen?.swappedAtMs ?? 0);
    await sleep(Math.max(0, endMs + o.afterSeconds * 1000 - epochMs()));
    ticking = false;
    await ticks;
    // Events held back by the connection cap are still sent (as answers come in) and counted.
    await driver.settled();
    const s = driver.snapshot();
    return {
      answerMs: answeredMs - startMs,
      answer: answer.results[0],
      ...(rewrite ? { rewrite } : {}),
      windows: windows.split(startMs, endMs),
      traffic: { ratePerS: o.rate, sent: s.sent, acked: s.acked, errors: s.errors, errorCodes: s.errorCodes, overloadedTicks: s.overloadedTicks, maxWaiting: s.maxWaiting },
    };
  } finally {
    ticking = false;
    watch?.stop();
    bg.close();
    eraser.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Prometheus text → the sum of each metric's samples, by name. */
async function metrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * The rewrites' count and their duration: the last one's (omni_store_rewrite_seconds, a gauge) or,
 * from a histogram, the sum of all; undefined on a server that reports no rewrites.
 */
function rewriteMetrics(m: Map<string, number>): { count: number; seconds: number; summed: boolean } | undefined {
  const count = m.get('omni_store_rewrites_total');
  if (count === undefined) return undefined;
  const sum = m.get('omni_store_rewrite_seconds_sum');
  return { count, seconds: sum ?? m.get('omni_store_rewrite_seconds') ?? NaN, summed: sum !== undefined };
}

/** The duration of the rewrite(s) since `before`, once the count has risen (the file is swapped in by now, the count follows at once). */
async function engineRewriteMs(url: string, before: { count: number; seconds: number }): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const now = rewriteMetrics(await metrics(url));
    if (now && now.count > before.count) return (now.summed ? now.seconds - before.seconds : now.seconds) * 1000;
    if (Date.now() > deadline) return NaN;
    await sleep(10);
  }
}

/** Waits until the engine has applied everything it was given (derived events included). */
async function quiet(url: string): Promise<void> {
  let last = -1;
  for (;;) {
    const m = await metrics(url);
    const applied = m.get('omni_events_total') ?? 0;
    if (applied === last && (m.get('omni_engine_queued_events') ?? 0) === 0) return;
    last = applied;
    await sleep(QUIET_POLL_MS);
  }
}

async function storeSize(url: string, dir: string): Promise<StoreSize> {
  const m = await metrics(url);
  // Lock files come and go while the server runs.
  const sizeOf = (name: string) => statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
  const fileBytes = readdirSync(dir).reduce((sum, name) => sum + sizeOf(name), 0);
  return { stateEntries: m.get('omni_state_entries') ?? NaN, usedBytes: m.get('omni_state_bytes') ?? NaN, fileBytes };
}

async function readBack(url: string, token: string, history: ReturnType<typeof customerHistory>) {
  const get = (path: string) => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  let ids = 0;
  let requests = 0;
  let ordersNamingCustomer = 0;
  for (const id of history.ids) if ((await get(`/v1/customers/${encodeURIComponent(id)}`)).status !== 404) ids++;
  for (const id of history.requests) if ((await get(`/v1/requests/${encodeURIComponent(id)}`)).status !== 404) requests++;
  for (const id of history.orders) {
    const res = await get(`/v1/orders/${encodeURIComponent(id)}`);
    if (res.status === 200 && ((await res.json()) as { customer?: string }).customer !== undefined) ordersNamingCustomer++;
  }
  return { ids, requests, ordersNamingCustomer };
}
