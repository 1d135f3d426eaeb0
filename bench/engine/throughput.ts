// `omni bench engine`: the engine alone, in-process. Phase 1 finds the most events per second it
// makes durable (closed loop: many submits in flight); phase 2 offers a fixed fraction of that
// open-loop and records submit→durable latency from each chunk's *scheduled* send time, so a
// stalled engine cannot hide its stall (coordinated-omission correction).

import { cpus, loadavg } from 'node:os';
import type { Durability, InputEvent } from '../../engine/mod.ts';
import { openBenchEngine, type BenchEngine } from '../shared/bench-engine.ts';
import { describeFlags, readFlags, readWorkerList, rotated, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtLatency, fmtMs, latencyHistogram, printTable, summariseLatency, type LatencySummary, type Spread } from '../shared/report.ts';
import { PhaseProfiler } from './phase-profiler.ts';
import { BatchRecorder, RuntimeMonitor, collectGarbage, fmtRuntime, type BatchSummary, type RuntimeSample } from '../shared/runtime-monitor.ts';
import { freshDir, removeDir } from '../shared/server-process.ts';
import { ThreadCpuMonitor, fmtThreadCpu, threadCosts, type ThreadCpu } from '../shared/thread-cpu.ts';
import { StockWorkload, chunked, countErrors, locationEvents, seedEvents, type Distribution } from '../../loadgen/mod.ts';

const DURABILITIES: readonly Durability[] = ['fsync', 'commit', 'none'];

export const ENGINE_FLAGS: FlagSpec[] = [
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'length of each measured phase (default 10)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'warm-up before the measured phases, not counted (default 3)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs (default 10000)' },
  { name: 'locations', kind: 'value', valueName: 'L', help: 'locations; every SKU is stocked at each (default 10)' },
  { name: 'dist', kind: 'value', valueName: 'zipf|uniform', help: 'SKU popularity (default zipf, s=1)' },
  { name: 'rules', kind: 'value', valueName: 'stock|noop', help: "noop: the stock processor's apply only answers ok — the engine core's own cost (default stock)" },
  { name: 'durability', kind: 'value', valueName: 'MODE', help: 'fsync | commit | none | all (all: each in turn, fresh data dir each; default fsync)' },
  { name: 'batch', kind: 'value', valueName: 'N', help: 'events per engine.submit call (default 1000)' },
  { name: 'concurrency', kind: 'value', valueName: 'N', help: 'submits in flight in the throughput phase (default 64)' },
  { name: 'load', kind: 'value', valueName: 'F', help: 'latency phase offers this fraction of the measured max (default 0.5)' },
  { name: 'rate', kind: 'value', valueName: 'EV_PER_S', help: 'latency phase at this fixed rate instead (same for every durability)' },
  { name: 'max-events', kind: 'value', valueName: 'N', help: 'most events pre-generated for one phase (default 4000000)' },
  { name: 'max-batch', kind: 'value', valueName: 'N', help: "engine option maxBatch (default: the engine's own)" },
  { name: 'max-in-flight', kind: 'value', valueName: 'N', help: "engine option maxInFlight (default: the engine's own)" },
  { name: 'workers', kind: 'value', valueName: '1|2|1,2', help: "1: openEngine in this thread; 2: openThreadedEngine, two engine threads sharing the partitions (this thread builds and submits); 1,2: both, alternating (default 1)" },
  { name: 'cpu-profile', kind: 'value', valueName: 'PREFIX', help: 'write a CPU profile of each throughput phase to PREFIX-<durability>.cpuprofile' },
];

export const ENGINE_HELP = `Usage: omni bench engine [flags]

The engine alone, in-process: stock events (45% sold, 38% received, 6% reserve, 3% release,
3% commit, 5% transfer) over SKUs × locations, submitted in chunks with many submits in flight.
Reports the most events/s made durable, then submit→durable latency (p50/p99/p999/max) when
offered a fraction of that open-loop, measured from the scheduled send time, and the CPU of each
thread. --workers 1,2 runs the engine in this thread and on two engine threads alternately.

Flags:
${describeFlags(ENGINE_FLAGS)}`;

export interface EngineBenchOptions {
  seconds: number;
  warmupSeconds: number;
  skus: number;
  locations: number;
  dist: Distribution;
  /** `noop` keeps validation, dedup, batching and commit but does no state or topic work. */
  rules: 'stock' | 'noop';
  durabilities: Durability[];
  /** Thread counts compared (1: openEngine, 2: openThreadedEngine), alternating run by run. */
  workers: number[];
  batch: number;
  concurrency: number;
  load: number;
  rate?: number;
  maxEvents: number;
  cpuProfile?: string;
  /** Engine tuning, passed through when given. */
  maxBatch?: number;
  maxInFlight?: number;
}

export function readEngineOptions(argv: readonly string[]): EngineBenchOptions | 'help' {
  const f = readFlags(argv, ENGINE_FLAGS);
  if (f.help) return 'help';
  const durability = f.choice('durability', 'fsync', [...DURABILITIES, 'all'] as const);
  const rate = f.num('rate', 0, 0, 1e8);
  const workers = readWorkerList(f.string('workers'), [1]);
  return {
    seconds: f.num('seconds', 10, 0.5, 3600),
    warmupSeconds: f.num('warmup', 3, 0, 600),
    skus: f.int('skus', 10_000, 1, 10_000_000),
    locations: f.int('locations', 10, 1, 1000),
    dist: f.choice('dist', 'zipf', ['zipf', 'uniform'] as const),
    rules: f.choice('rules', 'stock', ['stock', 'noop'] as const),
    durabilities: durability === 'all' ? [...DURABILITIES] : [durability],
    workers,
    batch: f.int('batch', 1000, 1, 10_000),
    concurrency: f.int('concurrency', 64, 1, 10_000),
    load: f.num('load', 0.5, 0.01, 1),
    rate: rate > 0 ? rate : undefined,
    maxEvents: f.int('max-events', 4_000_000, 10_000, 50_000_000),
    cpuProfile: f.string('cpu-profile'),
    maxBatch: f.string('max-batch') === undefined ? undefined : f.int('max-batch', 0, 1, 1_000_000),
    maxInFlight: f.string('max-in-flight') === undefined ? undefined : f.int('max-in-flight', 0, 1, 1000),
  };
}

export interface ThroughputPhase {
  eventsPerS: number;
  events: number;
  seconds: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  /** The pre-generated events ran out before the time did: the figure covers a shorter span. */
  exhausted: boolean;
  batches: BatchSummary;
  runtime: RuntimeSample;
}

export interface LatencyPhase extends LatencySummary {
  targetEventsPerS: number;
  achievedEventsPerS: number;
  chunkEvents: number;
  intervalMs: number;
  /** Largest delay between a chunk's scheduled and actual send (the event loop was busy). */
  maxSendLagMs: number;
  rejected: number;
  batches: BatchSummary;
  runtime: RuntimeSample;
}

export interface DurabilityResult {
  durability: Durability;
  workers: number;
  /** CPU of each thread of this process over the throughput phase, busiest first. */
  threads: ThreadCpu[];
  setup: { events: number; ms: number };
  warmupEventsPerS: number;
  throughput: ThroughputPhase;
  latency: LatencyPhase;
  pendingTimers: number;
  /** The machine's 1-minute load average at the end: above the CPU count, the figures are suspect. */
  loadAverage: number;
  /** Top functions by self time in the throughput phase, with --cpu-profile. */
  profile?: string[];
}

/** Closed loop: `concurrency` workers each submit a chunk and wait for it, until time or chunks run out. */
async function closedLoop(engine: BenchEngine, chunks: InputEvent[][], concurrency: number, seconds: number) {
  const byCode = new Map<string, number>();
  let next = 0;
  let events = 0;
  let rejected = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let last = start;
  let failed = false;
  const worker = async () => {
    while (!failed && next < chunks.length && performance.now() < deadline) {
      const chunk = chunks[next++];
      const results = await engine.submit(chunk).catch((err: unknown) => {
        failed = true;
        throw err;
      });
      events += chunk.length;
      rejected += countErrors(results, byCode);
      last = performance.now();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = last - start;
  return { events, rejected, byCode, seconds: ms / 1000, eventsPerS: events / (ms / 1000), exhausted: next >= chunks.length && ms < seconds * 1000, unsent: chunks.slice(next) };
}

/** Open loop: chunk k is due at start + k·interval; latency counts from when it was due. */
async function openLoop(engine: BenchEngine, chunks: InputEvent[][], intervalMs: number) {
  const hist = latencyHistogram();
  let rejected = 0;
  let maxLag = 0;
  let done = 0;
  let k = 0;
  const ignore = new Map<string, number>();
  const start = performance.now() + 5;
  const expectedMs = chunks.length * intervalMs;
  let lastDone = start;
  let stopped = false;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => {
      stopped = true;
      clearTimeout(watchdog);
      reject(err);
    };
    const watchdog = setTimeout(() => fail(new Error(`latency phase: ${chunks.length - done} chunks unanswered 60 s after the schedule ended`)), expectedMs + 60_000);
    const tick = () => {
      if (stopped) return;
      const now = performance.now();
      while (k < chunks.length && start + k * intervalMs <= now) {
        const scheduled = start + k * intervalMs;
        maxLag = Math.max(maxLag, now - scheduled);
        const chunk = chunks[k++];
        engine.submit(chunk).then((results) => {
          lastDone = performance.now();
          hist.recordValueWithCount(Math.max(1, Math.round((lastDone - scheduled) * 1000)), chunk.length);
          rejected += countErrors(results, ignore);
          if (++done === chunks.length) {
            clearTimeout(watchdog);
            resolve();
          }
        }, fail);
      }
      if (k < chunks.length) setTimeout(tick, Math.max(0, start + k * intervalMs - performance.now()));
    };
    tick();
  });
  const events = chunks.reduce((n, c) => n + c.length, 0);
  return { summary: summariseLatency(hist), maxLag, rejected, achieved: events / ((lastDone - start) / 1000) };
}

async function measureDurability(durability: Durability, workers: number, o: EngineBenchOptions, runNo: number): Promise<DurabilityResult> {
  const dir = freshDir(`engine-${durability}`);
  const engine = await openBenchEngine({ path: dir, durability, workers, rules: o.rules, maxBatch: o.maxBatch, maxInFlight: o.maxInFlight });
  try {
    const prefix = `e${runNo}${durability[0]}${workers}`;
    const setupStart = performance.now();
    const setupErrors = new Map<string, number>();
    countErrors(await engine.submit(locationEvents(o.locations, prefix)), setupErrors);
    const seeds = chunked(seedEvents(o.skus, o.locations, prefix), 10_000);
    for (const results of await Promise.all(seeds.map((c) => engine.submit(c)))) countErrors(results, setupErrors);
    if (setupErrors.size > 0) throw new Error(`setup events were rejected: ${JSON.stringify(Object.fromEntries(setupErrors))}`);
    const setup = { events: o.locations + o.skus * o.locations, ms: performance.now() - setupStart };

    const wl = new StockWorkload({ skus: o.skus, locations: o.locations, dist: o.dist, idPrefix: prefix, releaseLag: o.batch * o.concurrency });
    // Warm-up in rounds of fresh events until its time is up; the last round's rate sizes the pool.
    let warmRate = 0;
    const warmEnd = performance.now() + o.warmupSeconds * 1000;
    do {
      const round = await closedLoop(engine, wl.chunks(Math.min(200_000, o.maxEvents), o.batch), o.concurrency, Math.max(0.2, (warmEnd - performance.now()) / 1000));
      wl.forget(round.unsent);
      warmRate = round.eventsPerS;
    } while (performance.now() < warmEnd);

    const poolEvents = Math.min(o.maxEvents, Math.ceil((warmRate * o.seconds * 2) / o.batch) * o.batch + o.batch * o.concurrency);
    let pool = wl.chunks(poolEvents, o.batch);
    collectGarbage();
    const profiler = o.cpuProfile ? new PhaseProfiler() : undefined;
    await profiler?.start();
    let recorder = new BatchRecorder(engine);
    let monitor = new RuntimeMonitor();
    const threadCpu = new ThreadCpuMonitor();
    const closed = await closedLoop(engine, pool, o.concurrency, o.seconds);
    const threads = threadCpu.stop();
    const profile = await profiler?.stop(`${o.cpuProfile}-${durability}.cpuprofile`);
    wl.forget(closed.unsent);
    const throughput: ThroughputPhase = {
      eventsPerS: closed.eventsPerS,
      events: closed.events,
      seconds: closed.seconds,
      rejected: closed.rejected,
      rejectedByCode: Object.fromEntries(closed.byCode),
      exhausted: closed.exhausted,
      batches: recorder.stop(),
      runtime: monitor.stop(),
    };
    pool = [];

    const target = o.rate ?? throughput.eventsPerS * o.load;
    const chunkEvents = Math.max(1, Math.round(target / 1000));
    const intervalMs = (chunkEvents * 1000) / target;
    const scheduled = wl.chunks(Math.min(o.maxEvents, Math.max(chunkEvents, Math.ceil(target * o.seconds))), chunkEvents);
    collectGarbage();
    recorder = new BatchRecorder(engine);
    monitor = new RuntimeMonitor();
    const open = await openLoop(engine, scheduled, intervalMs);
    const latency: LatencyPhase = {
      ...open.summary,
      targetEventsPerS: target,
      achievedEventsPerS: open.achieved,
      chunkEvents,
      intervalMs,
      maxSendLagMs: open.maxLag,
      rejected: open.rejected,
      batches: recorder.stop(),
      runtime: monitor.stop(),
    };
    return { durability, workers, threads, setup, warmupEventsPerS: warmRate, throughput, latency, pendingTimers: engine.stats().pendingTimers, profile, loadAverage: loadavg()[0] };
  } finally {
    await engine.close();
    removeDir(dir);
  }
}

export interface EngineBenchResult {
  options: EngineBenchOptions;
  modes: DurabilityResult[];
}

export async function runEngineBench(o: EngineBenchOptions, runNo = 0): Promise<EngineBenchResult> {
  const modes: DurabilityResult[] = [];
  // Each run starts with a different mode (and thread count), so a drift in background load
  // does not always fall on the same one; the results are reported in the usual order.
  const variants = o.workers.flatMap((w) => o.durabilities.map((d) => [w, d] as const));
  for (const [w, d] of rotated(variants, runNo)) {
    const tuning = `${o.maxBatch ? `, maxBatch ${o.maxBatch}` : ''}${o.maxInFlight ? `, maxInFlight ${o.maxInFlight}` : ''}`;
    const threads = w === 1 ? 'openEngine, one thread' : 'openThreadedEngine, two engine threads sharing the partitions';
    console.log(`\n[durability ${d}, --workers ${w}: ${threads}] ${fmtInt(o.skus)} SKUs × ${o.locations} locations (${o.dist}${o.rules === 'noop' ? ', no-op rules' : ''}), chunks of ${o.batch}, ${o.concurrency} in flight${tuning}`);
    const r = await measureDurability(d, w, o, runNo);
    printDurability(r);
    modes.push(r);
  }
  const rank = (m: DurabilityResult) => o.workers.indexOf(m.workers) * DURABILITIES.length + o.durabilities.indexOf(m.durability);
  modes.sort((a, b) => rank(a) - rank(b));
  for (const w of o.workers) {
    const group = modes.filter((m) => m.workers === w);
    if (group.length > 1) printRatios(group);
  }
  if (o.workers.length > 1) printWorkerRatios(modes);
  return { options: o, modes };
}

function fmtBatches(b: BatchSummary): string {
  return `${fmtInt(b.batches)} batches of ${fmtInt(b.meanEvents)} events; apply mean ${fmtMs(b.meanApplyMs)} / max ${fmtMs(b.maxApplyMs)} ms, commit mean ${fmtMs(b.meanCommitMs)} / max ${fmtMs(b.maxCommitMs)} ms`;
}

function printDurability(r: DurabilityResult): void {
  const t = r.throughput;
  const l = r.latency;
  console.log(`  setup     : ${fmtInt(r.setup.events)} events (locations + seed stock) in ${fmtMs(r.setup.ms)} ms; warm-up rate ${fmtInt(r.warmupEventsPerS)} events/s`);
  console.log(`  max       : ${fmtInt(t.eventsPerS)} events/s durable (${fmtInt(t.events)} events in ${t.seconds.toFixed(2)} s, ${fmtInt(t.rejected)} rejected${t.rejected ? ` ${JSON.stringify(t.rejectedByCode)}` : ''})`);
  if (t.exhausted) console.log(`              note: the pre-generated events ran out after ${t.seconds.toFixed(2)} s (raise --max-events)`);
  console.log(`              ${fmtBatches(t.batches)}`);
  console.log(`              ${fmtRuntime(t.runtime)}`);
  console.log(`  threads   : ${fmtThreadCpu(r.threads, t.eventsPerS)}`);
  console.log(`  latency   : open loop at ${fmtInt(l.targetEventsPerS)} events/s (${l.chunkEvents} every ${fmtMs(l.intervalMs)} ms), achieved ${fmtInt(l.achievedEventsPerS)}`);
  console.log(`              submit→durable ${fmtLatency(l)}; longest send delay ${fmtMs(l.maxSendLagMs)} ms`);
  console.log(`              ${fmtBatches(l.batches)}`);
  console.log(`              ${fmtRuntime(l.runtime)}`);
  console.log(`  timers    : ${fmtInt(r.pendingTimers)} reservation timers pending at the end; load average (1 min) ${r.loadAverage.toFixed(2)} on ${cpus().length} CPUs`);
  for (const line of r.profile ?? []) console.log(`  ${line}`);
}

function printRatios(modes: DurabilityResult[]): void {
  const base = modes.find((m) => m.durability === 'none') ?? modes[modes.length - 1];
  console.log(`\ncost of each durability choice (relative to '${base.durability}'; latency at ${modes.every((m) => m.latency.targetEventsPerS === base.latency.targetEventsPerS) ? 'the same offered rate' : "each mode's own fraction of its max"}):`);
  const rows = [['durability', 'max events/s', 'vs ' + base.durability, 'p50 ms', 'p99 ms', 'p999 ms', 'max ms', 'p99 vs ' + base.durability]];
  for (const m of modes) {
    rows.push([
      m.durability,
      fmtInt(m.throughput.eventsPerS),
      `${(m.throughput.eventsPerS / base.throughput.eventsPerS).toFixed(2)}×`,
      fmtMs(m.latency.p50Ms),
      fmtMs(m.latency.p99Ms),
      fmtMs(m.latency.p999Ms),
      fmtMs(m.latency.maxMs),
      `${(m.latency.p99Ms / base.latency.p99Ms).toFixed(2)}×`,
    ]);
  }
  printTable(rows);
}

function printWorkerRatios(modes: DurabilityResult[]): void {
  console.log('\n--workers 2 ÷ --workers 1, per durability:');
  for (const d of DURABILITIES) {
    const [one, two] = [1, 2].map((w) => modes.find((m) => m.workers === w && m.durability === d));
    if (one && two) console.log(`  ${d.padEnd(7)} max ${(two.throughput.eventsPerS / one.throughput.eventsPerS).toFixed(2)}×, latency p50 ${(two.latency.p50Ms / one.latency.p50Ms).toFixed(2)}×, p99 ${(two.latency.p99Ms / one.latency.p99Ms).toFixed(2)}×`);
  }
}

/** Key prefix of a mode: none for the one-thread engine alone (the figures' old names), else `w1.` / `w2.`. */
const modeKey = (o: EngineBenchOptions, m: DurabilityResult) => (o.workers.length === 1 && m.workers === 1 ? m.durability : `w${m.workers}.${m.durability}`);

/** The figures compared across --runs. */
export function engineHeadline(r: EngineBenchResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of r.modes) {
    const k = modeKey(r.options, m);
    out[`${k}.maxEventsPerS`] = m.throughput.eventsPerS;
    out[`${k}.latencyP50Ms`] = m.latency.p50Ms;
    out[`${k}.latencyP99Ms`] = m.latency.p99Ms;
    out[`${k}.latencyP999Ms`] = m.latency.p999Ms;
    out[`${k}.latencyMaxMs`] = m.latency.maxMs;
    const costs = threadCosts(m.threads, m.throughput.eventsPerS);
    out[`${k}.mainThreadUsPerEvent`] = costs.mainUsPerEvent;
    out[`${k}.busiestOtherThreadUsPerEvent`] = costs.otherUsPerEvent;
  }
  return out;
}

/** Ratios of the medians over runs, for `--durability all --runs K`. */
export function engineRatios(spreads: Record<string, Spread>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of DURABILITIES) {
    const [one, two] = [spreads[`w1.${d}.maxEventsPerS`]?.median, spreads[`w2.${d}.maxEventsPerS`]?.median];
    if (one && two) out[`${d}.workers2VsWorkers1`] = two / one;
  }
  const none = spreads['none.maxEventsPerS']?.median;
  if (!none) return out;
  for (const d of DURABILITIES) {
    const v = spreads[`${d}.maxEventsPerS`]?.median;
    if (v !== undefined) out[`${d}.throughputVsNone`] = v / none;
  }
  return out;
}
