// `omni bench lmdb-layout`: N threads each apply their own partition's events and make them
// durable (fsync'd LMDB commits). Which layout makes the most events durable: (A) an environment
// per thread, (B) one environment every thread writes to (LMDB serializes its write transactions),
// or (C) one environment whose single writer thread commits every thread's write set in one
// transaction per turn? The threads are partition-thread.ts; this file starts them, measures a
// window of each layout and thread count (layouts alternating A B C, C B A run by run, so drift
// of the shared machine hits each alike) and reports.

import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { describeFlags, readFlags, UsageError, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtMs, printTable, type Spread } from '../shared/report.ts';
import { freshDir, removeDir } from '../shared/server-process.ts';
import type { ApplyConfig, ApplyDone, FromThread, Layout, ToThread, WindowStats, WriterConfig } from './partition-thread.ts';

const LAYOUTS: readonly Layout[] = ['A', 'B', 'C'];
const LAYOUT_NAMES: Record<Layout, string> = { A: 'A env per thread', B: 'B one env, all write', C: 'C one env, one writer' };

export const LAYOUT_FLAGS: FlagSpec[] = [
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured window of each layout and thread count (default 5)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'applying and committing before the window, not counted (default 1)' },
  { name: 'threads', kind: 'value', valueName: 'LIST', help: 'thread counts, comma-separated (default 1,2,4; above the core count is oversubscribed)' },
  { name: 'layouts', kind: 'value', valueName: 'LIST', help: 'subset of A,B,C (default A,B,C)' },
  { name: 'keys', kind: 'value', valueName: 'N', help: 'records per thread, Zipf(s=1) popularity (default 10000)' },
  { name: 'rate', kind: 'value', valueName: 'EV_PER_S', help: 'offer this many events/s in total, split evenly over the threads (default 0: without limit)' },
  { name: 'max-batch', kind: 'value', valueName: 'N', help: 'most events in one thread\'s batch (default 20000)' },
];

export const LAYOUT_HELP = `Usage: omni bench lmdb-layout [flags]

N threads each apply their own partition's events: read a ≈300-byte msgpack record by key
(Zipf), modify it, write it back, add a 20-byte dedup entry under a fresh id. Each thread
group-commits (a batch is what it applied while its previous commit was in flight) with LMDB
sync commits (fsync), into
  A  an environment of its own (its own subfolder, commits and fsyncs)
  B  one environment shared by all threads (LMDB serializes the write transactions)
  C  one environment written by a single writer thread: the threads send their write sets as
     msgpack bytes (transferred), the writer commits all it holds in one transaction per turn
Reports durable events/s, LMDB commits/s, issue→durable latency of the threads' batches
(p50/p99), and CPU µs per event: each apply thread, C's writer thread, the whole process.
Events arrive without limit, so these are the most each layout makes durable; --rate offers a
fixed load instead (smaller batches, where the number of fsyncs shows in latency and CPU).

Flags:
${describeFlags(LAYOUT_FLAGS)}`;

export interface LayoutOptions {
  seconds: number;
  warmupSeconds: number;
  threads: number[];
  layouts: Layout[];
  keys: number;
  maxBatch: number;
  /** Events/s offered in total (split over the threads); 0: without limit. */
  rate: number;
}

function readList<T>(flag: string, text: string | undefined, fallback: T[], parse: (s: string) => T | undefined): T[] {
  if (text === undefined) return fallback;
  const list = text.split(',').map((s) => s.trim());
  const parsed = list.map(parse);
  const bad = list.find((_, i) => parsed[i] === undefined);
  if (bad !== undefined) throw new UsageError(`--${flag}: '${bad}' is not one of the allowed values`);
  return [...new Set(parsed as T[])];
}

export function readLayoutOptions(argv: readonly string[]): LayoutOptions | 'help' {
  const f = readFlags(argv, LAYOUT_FLAGS);
  if (f.help) return 'help';
  return {
    seconds: f.num('seconds', 5, 0.05, 3600),
    warmupSeconds: f.num('warmup', 1, 0, 600),
    threads: readList('threads', f.string('threads'), [1, 2, 4], (s) => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 16 ? Number(s) : undefined)),
    layouts: readList('layouts', f.string('layouts'), [...LAYOUTS], (s) => LAYOUTS.find((l) => l === s.toUpperCase())),
    keys: f.int('keys', 10_000, 1, 1_000_000),
    maxBatch: f.int('max-batch', 20_000, 1, 1_000_000),
    rate: f.num('rate', 0, 0, 1e8),
  };
}

export interface LayoutResult {
  layout: Layout;
  threads: number;
  eventsPerS: number;
  /** LMDB commits, each one fsync: the threads' own for A and B, the writer's for C. */
  commitsPerS: number;
  eventsPerCommit: number;
  /** Issue → durable of the apply threads' batches (C: includes the hops to the writer and back). */
  p50Ms: number;
  p99Ms: number;
  applyUsPerEvent: number;
  writerUsPerEvent: number;
  processUsPerEvent: number;
  /** Checks that every applied event was made durable once: applied = versions stored = dedup entries stored. */
  applied: number;
  storedVersions: number;
  storedDedup: number;
  recordBytes: number;
}

/** Starts partition-thread: the compiled file, or the TypeScript source through tsx. */
function startThread(config: ApplyConfig | WriterConfig, transfer: MessagePort[]): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./partition-thread.js', here), { workerData: config, transferList: transfer });
  const entry = new URL('./partition-thread.ts', here).href;
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: config, transferList: transfer });
}

/** The next message of `kind` from the thread; a thread that fails or exits first rejects it. */
function next<K extends FromThread['kind']>(worker: Worker, kind: K): Promise<Extract<FromThread, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromThread) => {
      if (m.kind !== kind) return;
      cleanup();
      resolve(m as Extract<FromThread, { kind: K }>);
    };
    const onError = (e: Error) => (cleanup(), reject(e));
    const onExit = (code: number) => (cleanup(), reject(new Error(`lmdb-layout: a thread exited (${code}) before '${kind}'`)));
    const cleanup = () => worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

const post = (workers: Worker[], m: ToThread) => workers.forEach((w) => w.postMessage(m));
const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One layout with `threads` apply threads, in a fresh data dir removed afterwards. */
export async function measureLayout(layout: Layout, threads: number, o: LayoutOptions): Promise<LayoutResult> {
  const dir = freshDir('lmdb-layout');
  const appliers: Worker[] = [];
  let writer: Worker | undefined;
  try {
    const channels = layout === 'C' ? Array.from({ length: threads }, () => new MessageChannel()) : [];
    if (layout === 'C') {
      const ports = channels.map((c) => c.port2);
      writer = startThread({ role: 'writer', path: join(dir, 'shared'), ports }, ports);
      await next(writer, 'ready');
    }
    // One at a time: each seeds its records before the next opens the environment.
    for (let t = 0; t < threads; t++) {
      const path = join(dir, layout === 'A' ? `t${t}` : 'shared');
      const port = channels[t]?.port1;
      const w = startThread({ role: 'apply', layout, path, thread: t, keys: o.keys, maxBatch: o.maxBatch, rate: o.rate / threads, writer: port }, port ? [port] : []);
      appliers.push(w);
      await next(w, 'ready');
    }
    const all = writer ? [...appliers, writer] : appliers;
    const done = appliers.map((w) => next(w, 'done'));
    post(appliers, { kind: 'go' });
    await sleep(o.warmupSeconds);
    const cpuStart = process.cpuUsage();
    post(all, { kind: 'mark' });
    await sleep(o.seconds);
    post(all, { kind: 'stop' });
    const cpu = process.cpuUsage(cpuStart);
    const reports: ApplyDone[] = await Promise.all(done);
    let writerStats: WindowStats | undefined;
    if (writer) {
      const closed = next(writer, 'writer-done');
      writer.postMessage({ kind: 'close' } satisfies ToThread);
      writerStats = await closed;
    }
    return summarise(layout, threads, reports, writerStats, cpu.user + cpu.system);
  } finally {
    await Promise.all([...appliers, ...(writer ? [writer] : [])].map((w) => w.terminate()));
    removeDir(dir);
  }
}

function summarise(layout: Layout, threads: number, reports: ApplyDone[], writer: WindowStats | undefined, processCpuUs: number): LayoutResult {
  const sum = (f: (r: ApplyDone) => number) => reports.reduce((s, r) => s + f(r), 0);
  // Each thread's rate over its own window (they open and close a message apart).
  const eventsPerS = sum((r) => r.events / (r.windowMs / 1000));
  const commitsPerS = writer ? writer.commits / (writer.windowMs / 1000) : sum((r) => r.commits / (r.windowMs / 1000));
  const events = sum((r) => r.events);
  const latencies = reports.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  return {
    layout,
    threads,
    eventsPerS,
    commitsPerS,
    eventsPerCommit: eventsPerS / commitsPerS,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    applyUsPerEvent: sum((r) => r.cpuUs / r.events) / reports.length,
    writerUsPerEvent: writer ? writer.cpuUs / events : 0,
    processUsPerEvent: processCpuUs / events,
    applied: sum((r) => r.applied),
    storedVersions: sum((r) => r.storedVersions),
    storedDedup: sum((r) => r.storedDedup),
    recordBytes: reports[0]?.recordBytes ?? 0,
  };
}

export interface LayoutBenchResult {
  options: LayoutOptions;
  results: LayoutResult[];
}

export async function runLayoutBench(o: LayoutOptions, runNo: number): Promise<LayoutBenchResult> {
  const order = runNo % 2 === 0 ? o.layouts : [...o.layouts].reverse();
  const load = loadavg().map((x) => x.toFixed(2)).join(' / ');
  console.log(`\nlayouts in this run: ${order.join(' ')} for each thread count; ${o.rate > 0 ? `${fmtInt(o.rate)} events/s offered; ` : ''}${o.seconds} s window after ${o.warmupSeconds} s warm-up; load ${load} (1 / 5 / 15 min) at its start`);
  const results: LayoutResult[] = [];
  for (const threads of o.threads) {
    for (const layout of order) {
      const r = await measureLayout(layout, threads, o);
      results.push(r);
      const unchecked = r.applied !== r.storedVersions || r.applied !== r.storedDedup ? ' — COUNTS DO NOT ADD UP' : '';
      console.log(`  ${LAYOUT_NAMES[layout]}, ${threads} thread${threads > 1 ? 's' : ''}: ${fmtInt(r.eventsPerS)} events/s${unchecked}`);
    }
  }
  printLayoutTable(results.map((r) => ({ ...r, label: LAYOUT_NAMES[r.layout] })));
  const bytes = results[0]?.recordBytes;
  if (bytes) console.log(`  records: ${bytes} bytes of msgpack; ${fmtInt(o.keys)} per thread; batches up to ${fmtInt(o.maxBatch)} events`);
  return { options: o, results };
}

type Row = Omit<LayoutResult, 'applied' | 'storedVersions' | 'storedDedup' | 'recordBytes' | 'layout'> & { label: string };

function printLayoutTable(rows: Row[]): void {
  const cpuCount = availableParallelism();
  printTable([
    ['layout', 'threads', 'events/s', 'commits/s', 'events/commit', 'p50 ms', 'p99 ms', 'apply µs/ev', 'writer µs/ev', 'process µs/ev'],
    ...[...rows]
      .sort((a, b) => a.threads - b.threads || a.label.localeCompare(b.label))
      .map((r) => [
        r.label,
        `${r.threads}${r.threads > cpuCount ? ' (over)' : ''}`,
        fmtInt(r.eventsPerS),
        fmtInt(r.commitsPerS),
        fmtInt(r.eventsPerCommit),
        fmtMs(r.p50Ms),
        fmtMs(r.p99Ms),
        r.applyUsPerEvent.toFixed(2),
        r.writerUsPerEvent ? r.writerUsPerEvent.toFixed(2) : '-',
        r.processUsPerEvent.toFixed(2),
      ]),
  ]);
  console.log(`  (over): more threads than the ${cpuCount} cores. commits/s: LMDB commits, each one fsync. p50/p99: a thread's batch, issue → durable.`);
}

const FIGURES = ['eventsPerS', 'commitsPerS', 'p50Ms', 'p99Ms', 'applyUsPerEvent', 'writerUsPerEvent', 'processUsPerEvent'] as const;

export function layoutHeadline(r: LayoutBenchResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of r.results) for (const f of FIGURES) out[`${x.layout}${x.threads}.${f}`] = x[f];
  return out;
}

/** The table again, of the medians over the runs. */
export function layoutConclusion(spreads: Record<string, Spread>): void {
  const rows: Row[] = [];
  for (const name of Object.keys(spreads)) {
    const m = /^([ABC])(\d+)\.eventsPerS$/.exec(name);
    if (!m) continue;
    const [layout, threads] = [m[1] as Layout, Number(m[2])];
    const get = (f: (typeof FIGURES)[number]) => spreads[`${layout}${threads}.${f}`].median;
    const [eventsPerS, commitsPerS] = [get('eventsPerS'), get('commitsPerS')];
    rows.push({ label: LAYOUT_NAMES[layout], threads, eventsPerS, commitsPerS, eventsPerCommit: eventsPerS / commitsPerS, p50Ms: get('p50Ms'), p99Ms: get('p99Ms'), applyUsPerEvent: get('applyUsPerEvent'), writerUsPerEvent: get('writerUsPerEvent'), processUsPerEvent: get('processUsPerEvent') });
  }
  console.log('\nmedians over the runs:');
  printLayoutTable(rows);
}
