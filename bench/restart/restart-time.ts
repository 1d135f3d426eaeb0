// `omni bench restart`: how long `omni serve` takes from spawn to its first 200 on GET /readyz
// on a data dir holding a million (sku, location) rows and pending reservation timers, next to
// the same on an empty data dir (the cost of starting Node and loading TypeScript through tsx).

import { get } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defaultProcessors, openEngine, type InputEvent } from '../../engine/mod.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtMs, median } from '../shared/report.ts';
import { freePort, freshDir, removeDir, startServer } from '../shared/server-process.ts';
import { chunked, countErrors, locationEvents, seedEvents, skuName, locationName } from '../../loadgen/mod.ts';

export const RESTART_FLAGS: FlagSpec[] = [
  { name: 'rows', kind: 'value', valueName: 'N', help: '(sku, location) rows in the data dir (default 1000000)' },
  { name: 'locations', kind: 'value', valueName: 'L', help: 'locations; SKUs = rows / L (default 10)' },
  { name: 'reservations', kind: 'value', valueName: 'N', help: 'pending reservations (timers re-armed at start; default 5000)' },
  { name: 'starts', kind: 'value', valueName: 'N', help: 'starts of each kind; the median is reported (default 5)' },
  { name: 'poll', kind: 'value', valueName: 'MS', help: 'GET /readyz every MS milliseconds (default 5)' },
];

export const RESTART_HELP = `Usage: omni bench restart [flags]

Builds a data dir with N (sku, location) rows (stock.received, durability none) plus pending
reservations, closes it, then spawns "omni serve" on it and times spawn → first 200 on
GET /readyz (polled every 5 ms). The same on an empty data dir gives the start-up floor.
Starts alternate between the two kinds; the page cache is warm (the dir was just written).

Flags:
${describeFlags(RESTART_FLAGS)}`;

export interface RestartBenchOptions {
  rows: number;
  locations: number;
  reservations: number;
  starts: number;
  pollMs: number;
}

export function readRestartOptions(argv: readonly string[]): RestartBenchOptions | 'help' {
  const f = readFlags(argv, RESTART_FLAGS);
  if (f.help) return 'help';
  return {
    rows: f.int('rows', 1_000_000, 1, 100_000_000),
    locations: f.int('locations', 10, 1, 1000),
    reservations: f.int('reservations', 5000, 0, 1_000_000),
    starts: f.int('starts', 5, 1, 100),
    pollMs: f.num('poll', 5, 1, 1000),
  };
}

interface BuiltDir {
  dir: string;
  rows: number;
  skus: number;
  reservations: number;
  buildMs: number;
  stateEntries: number;
  diskMiB: number;
}

function diskUsageMiB(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const s = statSync(join(dir, name));
    if (s.isFile()) bytes += s.blocks * 512; // allocated, not apparent size (LMDB files are sparse)
  }
  return bytes / 1024 ** 2;
}

async function buildDataDir(o: RestartBenchOptions): Promise<BuiltDir> {
  const dir = freshDir('restart-full');
  const start = performance.now();
  const skus = Math.ceil(o.rows / o.locations);
  const engine = await openEngine({ path: dir, processors: defaultProcessors(), durability: 'none' });
  try {
    const errors = new Map<string, number>();
    countErrors(await engine.submit(locationEvents(o.locations, 'r')), errors);
    // Submitted a few chunks at a time: all at once would hold every event and answer in memory.
    const pending: Array<Promise<unknown>> = [];
    let batch: InputEvent[] = [];
    let made = 0;
    for (const ev of seedEvents(skus, o.locations, 'r')) {
      if (made++ >= o.rows) break;
      batch.push(ev);
      if (batch.length === 20_000) {
        pending.push(engine.submit(batch).then((r) => countErrors(r, errors)));
        batch = [];
        if (pending.length >= 4) await pending.shift();
      }
    }
    if (batch.length > 0) pending.push(engine.submit(batch).then((r) => countErrors(r, errors)));
    await Promise.all(pending);
    const holds = Array.from({ length: o.reservations }, (_, i) => ({
      id: `r-hold-${i}`,
      type: 'stock.reserve',
      reservation: `bench-hold-${i}`,
      sku: skuName(i % skus),
      location: locationName(i % o.locations),
      qty: 1,
      ttlMs: 6 * 3600 * 1000,
    }));
    for (const c of chunked(holds, 5000)) countErrors(await engine.submit(c), errors);
    if (errors.size > 0) throw new Error(`building the data dir: events rejected ${JSON.stringify(Object.fromEntries(errors))}`);
    const stats = engine.stateStats();
    const pendingTimers = engine.stats().pendingTimers;
    await engine.close();
    return { dir, rows: Math.min(o.rows, skus * o.locations), skus, reservations: pendingTimers, buildMs: performance.now() - start, stateEntries: stats.entries, diskMiB: diskUsageMiB(dir) };
  } catch (error) {
    await engine.close();
    throw error;
  }
}

function getStatus(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

interface StartSample {
  readyMs: number;
  listeningLineMs: number;
  polls: number;
}

/** Spawns omni serve and polls /readyz until 200; bounded by `limitMs`. */
async function timeStart(dataDir: string, pollMs: number, check?: (port: number) => Promise<void>, limitMs = 120_000): Promise<StartSample> {
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const server = startServer({ dataDir, secret, port, startTimeoutMs: limitMs });
  try {
    let polls = 0;
    for (;;) {
      polls++;
      const ok = await getStatus(port, '/readyz').then((r) => r.status === 200, () => false);
      const elapsed = performance.now() - server.spawnedAt;
      if (ok) {
        const listeningLine = await server.listening;
        if (!listeningLine) throw new Error('no listening line');
        if (check) await check(port);
        return { readyMs: elapsed, listeningLineMs: server.listeningAfterMs ?? NaN, polls };
      }
      if (server.child.exitCode !== null) throw new Error(`omni serve exited (${server.child.exitCode}): ${server.stderr().trim()}`);
      if (elapsed > limitMs) throw new Error(`omni serve not ready after ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    await server.stop();
  }
}

export interface RestartBenchResult {
  options: RestartBenchOptions;
  built: Omit<BuiltDir, 'dir'>;
  full: { readyMs: number[]; medianReadyMs: number; medianListeningLineMs: number };
  empty: { readyMs: number[]; medianReadyMs: number; medianListeningLineMs: number };
  /** What the server reported after start on the full dir (a check that it loaded the state). */
  served: { pendingTimers?: number; stateEntries?: number };
}

function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export async function runRestartBench(o: RestartBenchOptions): Promise<RestartBenchResult> {
  console.log(`\nbuilding a data dir: ${fmtInt(o.rows)} rows (${fmtInt(Math.ceil(o.rows / o.locations))} SKUs × ${o.locations} locations) + ${fmtInt(o.reservations)} pending reservations`);
  const built = await buildDataDir(o);
  console.log(`  built in ${(built.buildMs / 1000).toFixed(1)} s: ${fmtInt(built.stateEntries)} state entries, ${fmtInt(built.reservations)} timers, ${built.diskMiB.toFixed(0)} MiB on disk`);
  const full: StartSample[] = [];
  const empty: StartSample[] = [];
  const served: RestartBenchResult['served'] = {};
  const knownSku = skuName(0);
  try {
    for (let i = 0; i < o.starts; i++) {
      const emptyDir = freshDir('restart-empty');
      try {
        empty.push(await timeStart(emptyDir, o.pollMs));
      } finally {
        removeDir(emptyDir);
      }
      full.push(
        await timeStart(built.dir, o.pollMs, async (port) => {
          // Untimed: the server really has the state (and the timers) it was restarted on.
          const stock = await getStatus(port, `/v1/stock/${knownSku}`);
          if (stock.status !== 200) throw new Error(`GET /v1/stock/${knownSku} answered ${stock.status} after restart`);
          const metrics = await getStatus(port, '/metrics');
          served.pendingTimers = metricValue(metrics.body, 'omni_engine_pending_timers');
          served.stateEntries = metricValue(metrics.body, 'omni_state_entries');
        }),
      );
      console.log(`  start ${i + 1}/${o.starts}: empty ${fmtMs(empty[i].readyMs)} ms, ${fmtInt(built.rows)} rows ${fmtMs(full[i].readyMs)} ms (listening line after ${fmtMs(empty[i].listeningLineMs)} / ${fmtMs(full[i].listeningLineMs)} ms)`);
    }
  } finally {
    removeDir(built.dir);
  }
  const sum = (s: StartSample[]) => ({
    readyMs: s.map((x) => x.readyMs),
    medianReadyMs: median(s.map((x) => x.readyMs)),
    medianListeningLineMs: median(s.map((x) => x.listeningLineMs)),
  });
  const { dir: _dir, ...builtInfo } = built;
  const result: RestartBenchResult = { options: o, built: builtInfo, full: sum(full), empty: sum(empty), served };
  console.log(`\n  spawn → first 200 on /readyz, median of ${o.starts}:`);
  const label = `${fmtInt(built.rows)} rows + ${fmtInt(built.reservations)} timers`;
  const w = Math.max(label.length, 'difference (cost of the state)'.length);
  const range = (v: number[]) => `[${fmtMs(Math.min(...v))} … ${fmtMs(Math.max(...v))}]`;
  console.log(`    ${label.padEnd(w)} : ${fmtMs(result.full.medianReadyMs)} ms  ${range(result.full.readyMs)}`);
  console.log(`    ${'empty data dir'.padEnd(w)} : ${fmtMs(result.empty.medianReadyMs)} ms  ${range(result.empty.readyMs)}`);
  console.log(`    ${'difference (cost of the state)'.padEnd(w)} : ${fmtMs(result.full.medianReadyMs - result.empty.medianReadyMs)} ms`);
  console.log(`    server after restart reported ${served.stateEntries ?? '?'} state entries, ${served.pendingTimers ?? '?'} pending timers`);
  return result;
}

export function restartHeadline(r: RestartBenchResult): Record<string, number> {
  return { fullReadyMs: r.full.medianReadyMs, emptyReadyMs: r.empty.medianReadyMs, stateCostMs: r.full.medianReadyMs - r.empty.medianReadyMs };
}
