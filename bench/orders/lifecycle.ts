// `omni bench orders`: pickup orders through their whole lifecycle in the engine (placed → ready
// → picked up), side by side in one run with plain stock events (received / sold) over the same
// stores and SKUs, on one engine thread and on two (`--workers 1,2`, as `omni serve --workers`).
// Each variant gets a fresh data dir with the stock received first; variants alternate run by run.

import { cpus, loadavg } from 'node:os';
import type { Durability } from '../../engine/mod.ts';
import { openBenchEngine, type BenchEngine } from '../shared/bench-engine.ts';
import { describeFlags, readFlags, readWorkerList, rotated, UsageError, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtMs, printTable, type Spread } from '../shared/report.ts';
import { BatchRecorder, collectGarbage, type BatchSummary } from '../shared/runtime-monitor.ts';
import { freshDir, removeDir } from '../shared/server-process.ts';
import { ThreadCpuMonitor, fmtThreadCpu, type ThreadCpu } from '../shared/thread-cpu.ts';
import { chunked, countErrors, type Distribution, type LatencyMs } from '../../loadgen/mod.ts';
import { closedLoop, openLoop, type LoopResult, type OpenLoopResult, type Source } from './drive.ts';
import { FLOW_STEPS, OrderWorkload, PlainStockWorkload, setupEvents, type OrderFlow, type OrderShape } from './workload.ts';

type Workload = 'orders' | 'stock';

export const ORDERS_FLAGS: FlagSpec[] = [
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'length of each measured phase (default 10)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'warm-up before the measured window, in the same loop, not counted (default 5: a pickup order takes several commits)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs, each stocked at every store (default 10000)' },
  { name: 'stores', kind: 'value', valueName: 'S', help: 'stores: pickup locations (default 20)' },
  { name: 'lines', kind: 'value', valueName: 'L', help: 'lines per order, distinct SKUs (default 3)' },
  { name: 'dist', kind: 'value', valueName: 'zipf|uniform', help: 'SKU popularity (default zipf, s=1)' },
  { name: 'flow', kind: 'value', valueName: 'pickup|fulfilled', help: 'pickup: placed → ready → picked_up; fulfilled: placed → fulfilled (default pickup)' },
  { name: 'workloads', kind: 'value', valueName: 'LIST', help: 'orders, stock or orders,stock: plain stock events side by side (default orders,stock)' },
  { name: 'durability', kind: 'value', valueName: 'MODE', help: 'fsync | commit | none (default fsync, as omni serve)' },
  { name: 'workers', kind: 'value', valueName: '1|2|1,2', help: 'engine threads: 1 in this thread, 2 as omni serve --workers 2; 1,2 both (default 1,2)' },
  { name: 'chunk', kind: 'value', valueName: 'N', help: 'orders per submit, each step (default 1: an order is its own request, as a shop sends it)' },
  { name: 'concurrency', kind: 'value', valueName: 'N', help: 'order chunks in flight in the throughput phase (default 500: each step waits for a commit, so many orders must be under way to keep the engine busy)' },
  { name: 'stock-chunk', kind: 'value', valueName: 'N', help: 'plain stock events per submit (default 500, as a till or feed posts them)' },
  { name: 'stock-concurrency', kind: 'value', valueName: 'N', help: 'stock chunks in flight in the throughput phase (default 32)' },
  { name: 'load', kind: 'value', valueName: 'F', help: "latency phase offers this fraction of the variant's measured max (default 0.5)" },
];

export const ORDERS_HELP = `Usage: omni bench orders [flags]

Pickup orders of 3 lines at 20 stores over 10,000 SKUs (stock received first) through the engine:
placed → ready → picked up, each step sent once the one before it was answered. Reports orders
completed per second (closed loop, many chunks in flight), then the ack latency of each step and
of the whole order when offered half of that open-loop (from the scheduled time). Plain stock
events (stock.received / stock.sold) run the same loops in the same run for comparison, on one
engine thread and on two. Each order is its own submit by default: with two engine threads a
submit carrying several orders is cut before each one (--chunk N shows what that costs).
Figures only: nothing is asserted against a target.

Flags:
${describeFlags(ORDERS_FLAGS)}`;

export interface OrdersBenchOptions extends OrderShape {
  seconds: number;
  warmupSeconds: number;
  workloads: Workload[];
  durability: Durability;
  workers: number[];
  chunk: number;
  concurrency: number;
  stockChunk: number;
  stockConcurrency: number;
  load: number;
}

export function readOrdersOptions(argv: readonly string[]): OrdersBenchOptions | 'help' {
  const f = readFlags(argv, ORDERS_FLAGS);
  if (f.help) return 'help';
  const workloads = (f.string('workloads') ?? 'orders,stock').split(',').map((s) => s.trim());
  for (const w of workloads) if (w !== 'orders' && w !== 'stock') throw new UsageError(`--workloads: each must be orders or stock (got '${w}')`);
  const o: OrdersBenchOptions = {
    seconds: f.num('seconds', 10, 0.2, 3600),
    warmupSeconds: f.num('warmup', 5, 0, 600),
    skus: f.int('skus', 10_000, 1, 1_000_000),
    stores: f.int('stores', 20, 1, 1000),
    linesPerOrder: f.int('lines', 3, 1, 50),
    dist: f.choice<Distribution>('dist', 'zipf', ['zipf', 'uniform']),
    flow: f.choice<OrderFlow>('flow', 'pickup', ['pickup', 'fulfilled']),
    workloads: [...new Set(workloads as Workload[])],
    durability: f.choice<Durability>('durability', 'fsync', ['fsync', 'commit', 'none']),
    workers: readWorkerList(f.string('workers'), [1, 2]),
    chunk: f.int('chunk', 1, 1, 10_000),
    concurrency: f.int('concurrency', 500, 1, 100_000),
    stockChunk: f.int('stock-chunk', 500, 1, 10_000),
    stockConcurrency: f.int('stock-concurrency', 32, 1, 10_000),
    load: f.num('load', 0.5, 0.01, 1),
  };
  if (o.linesPerOrder > o.skus) throw new UsageError(`--lines ${o.linesPerOrder}: an order's lines are distinct SKUs, so at most --skus (${o.skus})`);
  return o;
}

export interface VariantResult {
  workload: Workload;
  workers: number;
  setup: { events: number; ms: number };
  throughput: LoopResult;
  latency: OpenLoopResult;
  /** Events the engine applied per order (or per plain event) in the throughput phase, derived ones included. */
  appliedPerUnit: number;
  /** The same by event type. */
  appliedEach: Record<string, number>;
  threads: ThreadCpu[];
  batches: BatchSummary;
  loadAverage: number;
}

/** Events applied so far by type (every result together), derived events included. */
function appliedByType(engine: BenchEngine): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of engine.stats().eventsByTypeAndResult) {
    const type = key.slice(0, key.indexOf('|'));
    out.set(type, (out.get(type) ?? 0) + n);
  }
  return out;
}

/** The stores, then every SKU's stock at each, through the engine. */
export async function setUpStock(engine: BenchEngine, o: Pick<OrderShape, 'skus' | 'stores'>, prefix: string): Promise<{ events: number; ms: number }> {
  const start = performance.now();
  const errors = new Map<string, number>();
  const { locations, stock } = setupEvents({ skus: o.skus, stores: o.stores }, prefix);
  countErrors(await engine.submit(locations), errors);
  const chunks = chunked(stock, 10_000);
  for (const results of await Promise.all(chunks.map((c) => engine.submit(c)))) countErrors(results, errors);
  if (errors.size > 0) throw new Error(`setup events were rejected: ${JSON.stringify(Object.fromEntries(errors))}`);
  return { events: locations.length + o.skus * o.stores, ms: performance.now() - start };
}

function sourceOf(workload: Workload, o: OrdersBenchOptions, prefix: string): Source {
  return workload === 'orders' ? { kind: 'orders', workload: new OrderWorkload(o, prefix) } : { kind: 'stock', workload: new PlainStockWorkload(o, prefix) };
}

export async function measureVariant(workload: Workload, workers: number, o: OrdersBenchOptions, runNo: number): Promise<VariantResult> {
  const dir = freshDir(`orders-${workload}`);
  const engine = await openBenchEngine({ path: dir, durability: o.durability, workers });
  try {
    const prefix = `ob${runNo}${workload[0]}${workers}`;
    const setup = await setUpStock(engine, o, prefix);
    const source = sourceOf(workload, o, prefix);
    const loop = workload === 'orders' ? { chunk: o.chunk, concurrency: o.concurrency } : { chunk: o.stockChunk, concurrency: o.stockConcurrency };
    await engine.idle();
    collectGarbage();
    let applied0 = new Map<string, number>();
    let applied1 = new Map<string, number>();
    let batches: BatchRecorder | undefined;
    let batchSummary: BatchSummary | undefined;
    let cpu: ThreadCpuMonitor | undefined;
    let threads: ThreadCpu[] = [];
    const window = {
      open() {
        applied0 = appliedByType(engine);
        batches = new BatchRecorder(engine);
        cpu = new ThreadCpuMonitor();
      },
      close() {
        threads = cpu?.stop() ?? [];
        batchSummary = batches?.stop();
        applied1 = appliedByType(engine);
      },
    };
    const throughput = await closedLoop(engine, source, { ...loop, warmupSeconds: o.warmupSeconds, seconds: o.seconds, window });
    await engine.idle();
    // The engine threads report their counts now and then: what they applied is read at the window's edges, so a few stragglers may fall outside.
    // Per order placed in the window (in a steady state, as many as complete), per event sent for stock.
    const placedInWindow = (applied1.get('order.placed') ?? 0) - (applied0.get('order.placed') ?? 0);
    const units = Math.max(1, workload === 'orders' ? placedInWindow : throughput.done);
    const appliedEach: Record<string, number> = {};
    for (const [type, n] of applied1) if (n > (applied0.get(type) ?? 0)) appliedEach[type] = (n - (applied0.get(type) ?? 0)) / units;
    const appliedPerUnit = Object.values(appliedEach).reduce((a, b) => a + b, 0);
    collectGarbage();
    const latency = await openLoop(engine, source, { ratePerS: Math.max(1, throughput.perS * o.load), seconds: o.seconds });
    return { workload, workers, setup, throughput, latency, appliedPerUnit, appliedEach, threads, batches: batchSummary ?? { batches: 0, meanEvents: 0, meanApplyMs: 0, maxApplyMs: 0, meanCommitMs: 0, maxCommitMs: 0 }, loadAverage: loadavg()[0] };
  } finally {
    await engine.close();
    removeDir(dir);
  }
}

const unit = (w: Workload) => (w === 'orders' ? 'orders' : 'events');
const fmtLat = (l: LatencyMs | undefined) => (l ? `p50 ${fmtMs(l.p50)} / p99 ${fmtMs(l.p99)} / max ${fmtMs(l.max)} ms` : '—');

function printVariant(r: VariantResult): void {
  const t = r.throughput;
  const l = r.latency;
  const u = unit(r.workload);
  console.log(`  setup     : ${fmtInt(r.setup.events)} events (stores + stock received) in ${fmtMs(r.setup.ms)} ms`);
  const finished = r.workload === 'orders' ? `; ${fmtInt(t.done)} orders finished every step inside the window: ${fmtInt(t.finishedPerS)}/s` : '';
  console.log(`  max       : ${fmtInt(t.perS)} ${u}/s (steps answered ok ÷ steps per ${u === 'orders' ? 'order' : 'event'}, over ${t.seconds.toFixed(2)} s${finished}; ${fmtInt(t.events)} events answered, ${fmtInt(t.rejected)} rejected${t.rejected ? ` ${JSON.stringify(t.rejectedByCode)}` : ''})`);
  if (r.workload === 'orders' && t.done === 0) console.log(`              note: nothing finished inside the window — raise --warmup / --seconds or lower the concurrency`);
  console.log(`              ack at saturation ${fmtLat(t.ack)}; ${r.appliedPerUnit.toFixed(1)} events applied per ${u === 'orders' ? 'order' : 'event'} (derived included)`);
  if (r.workload === 'orders') console.log(`              applied per order: ${Object.entries(r.appliedEach).map(([type, n]) => `${type} ${n.toFixed(2)}`).join(', ')}`);
  console.log(`              ${fmtInt(r.batches.batches)} batches of ${fmtInt(r.batches.meanEvents)} events, commit mean ${fmtMs(r.batches.meanCommitMs)} / max ${fmtMs(r.batches.maxCommitMs)} ms`);
  console.log(`  threads   : ${fmtThreadCpu(r.threads, t.perS).replace(/event\)/g, `${u === 'orders' ? 'order' : 'event'})`)}`);
  console.log(`  latency   : open loop at ${fmtInt(l.targetPerS)} ${u}/s, achieved ${fmtInt(l.perS)}, ${fmtInt(l.rejected)} rejected; longest send delay ${fmtMs(l.maxSendLagMs)} ms`);
  console.log(`              ack (every step) ${fmtLat(l.ack)} (n=${fmtInt(l.ack.count)})`);
  if (r.workload === 'orders') {
    for (const [step, s] of Object.entries(l.ackByStep)) console.log(`              ${step.padEnd(16)} ${fmtLat(s)}`);
    console.log(`              whole order (due → last step answered) ${fmtLat(l.order)}`);
  }
  console.log(`  load      : ${r.loadAverage.toFixed(2)} (1 min) on ${cpus().length} CPUs at the end`);
}

export interface OrdersBenchResult {
  options: OrdersBenchOptions;
  variants: VariantResult[];
}

export async function runOrdersBench(o: OrdersBenchOptions, runNo = 0): Promise<OrdersBenchResult> {
  const variants: VariantResult[] = [];
  const plan = o.workers.flatMap((w) => o.workloads.map((k) => [k, w] as const));
  const steps = FLOW_STEPS[o.flow].join(' → ');
  for (const [workload, workers] of rotated(plan, runNo)) {
    const what =
      workload === 'orders'
        ? `pickup orders of ${o.linesPerOrder} lines, ${steps}; ${o.chunk} per submit, ${o.concurrency} in flight`
        : `plain stock events, stock.received / stock.sold; ${o.stockChunk} per submit, ${o.stockConcurrency} in flight`;
    console.log(`\n[${workload}, --workers ${workers}, ${o.durability}] ${what}; ${fmtInt(o.skus)} SKUs (${o.dist}) × ${o.stores} stores`);
    const r = await measureVariant(workload, workers, o, runNo);
    printVariant(r);
    variants.push(r);
  }
  variants.sort((a, b) => a.workers - b.workers || o.workloads.indexOf(a.workload) - o.workloads.indexOf(b.workload));
  printSideBySide(variants);
  return { options: o, variants };
}

function printSideBySide(variants: VariantResult[]): void {
  console.log('\nside by side (latency: open loop at each variant’s own fraction of its max):');
  const rows = [['workload', 'workers', 'max /s', 'events applied each', 'ack p50 ms', 'ack p99 ms', 'order p99 ms']];
  for (const v of variants) {
    rows.push([v.workload, String(v.workers), `${fmtInt(v.throughput.perS)} ${unit(v.workload)}`, v.appliedPerUnit.toFixed(1), fmtMs(v.latency.ack.p50), fmtMs(v.latency.ack.p99), v.latency.order ? fmtMs(v.latency.order.p99) : '—']);
  }
  printTable(rows);
  for (const w of new Set(variants.map((v) => v.workers))) {
    const [orders, stock] = (['orders', 'stock'] as const).map((k) => variants.find((v) => v.workers === w && v.workload === k));
    if (orders && stock) console.log(`  --workers ${w}: one order costs as much engine time as ${(stock.throughput.perS / orders.throughput.perS).toFixed(1)} plain stock events`);
  }
  for (const k of ['orders', 'stock'] as const) {
    const [one, two] = [1, 2].map((w) => variants.find((v) => v.workers === w && v.workload === k));
    if (one && two) console.log(`  ${k}: --workers 2 ÷ --workers 1 = ${(two.throughput.perS / one.throughput.perS).toFixed(2)}× max, ack p99 ${(two.latency.ack.p99 / one.latency.ack.p99).toFixed(2)}×`);
  }
}

/** The figures compared across --runs: `w<N>.<workload>.…`. */
export function ordersHeadline(r: OrdersBenchResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of r.variants) {
    const k = `w${v.workers}.${v.workload}`;
    out[`${k}.perS`] = v.throughput.perS;
    out[`${k}.ackP50Ms`] = v.latency.ack.p50;
    out[`${k}.ackP99Ms`] = v.latency.ack.p99;
    out[`${k}.saturatedAckP99Ms`] = v.throughput.ack.p99;
    if (v.latency.order) out[`${k}.orderP99Ms`] = v.latency.order.p99;
    out[`${k}.appliedEach`] = v.appliedPerUnit;
    out[`${k}.rejected`] = v.throughput.rejected + v.latency.rejected;
  }
  return out;
}

/** Ratios of the medians over runs. */
export function ordersRatios(spreads: Record<string, Spread>): Record<string, number> {
  const out: Record<string, number> = {};
  const m = (k: string) => spreads[k]?.median;
  for (const k of ['orders', 'stock']) {
    const [one, two] = [m(`w1.${k}.perS`), m(`w2.${k}.perS`)];
    if (one && two) out[`${k}.workers2VsWorkers1`] = two / one;
  }
  for (const w of [1, 2]) {
    const [orders, stock] = [m(`w${w}.orders.perS`), m(`w${w}.stock.perS`)];
    if (orders && stock) out[`w${w}.stockEventsPerOrder`] = stock / orders;
  }
  return out;
}
