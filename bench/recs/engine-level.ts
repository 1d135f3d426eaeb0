// `omni bench recs [--train FILE] [--test FILE]`: the recommender's figures through the engine's
// own API, by default on the YooChoose sessions kept in test/fixtures/yoochoose. The training sessions are ingested as `activity.viewed` events (each session its own
// customer, `ts` = the click's time) at full speed: activity ingest with the recommendation
// update, events/s. Then each test session is replayed click by click — the click submitted
// and durable, then 20 recommendations asked through the customer processor's query (what
// GET /v1/customers/:subject/recommendations answers) — for HR@20, MRR@20 and query latency.
// `--scale K` first ingests K−1 older copies of the training sessions (distinct customers,
// shifted back in time) so the query latency is measured with that many sessions stored.

import { dirname, join, relative, resolve } from 'node:path';
import type { BatchStats, Durability, InputEvent, Recommendations } from '../../engine/mod.ts';
import { openBenchEngine, type BenchEngine } from '../shared/bench-engine.ts';
import { UsageError, describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { readSessions, type Session } from './eval.ts';
import { REPO_ROOT, freshDir, removeDir } from '../shared/server-process.ts';
import { ThreadCpuMonitor, fmtThreadCpu } from '../shared/thread-cpu.ts';
import { fmtInt, fmtLatency, latencyHistogram, summariseLatency, type LatencySummary } from '../shared/report.ts';

/** The YooChoose sessions kept in the repository (its README says where they come from). */
export const SAMPLE_DIR = join(REPO_ROOT, 'test', 'fixtures', 'yoochoose');
const DEFAULT_TRAIN = join(SAMPLE_DIR, 'train_tr.tsv.gz');
const DEFAULT_TEST = join(SAMPLE_DIR, 'train_valid.tsv.gz');

export const RECS_FLAGS: FlagSpec[] = [
  { name: 'train', kind: 'value', valueName: 'FILE', help: `training sessions TSV, gzipped if it ends in .gz (default ${relative(REPO_ROOT, DEFAULT_TRAIN)})` },
  { name: 'test', kind: 'value', valueName: 'FILE', help: `test sessions TSV, gzipped if it ends in .gz (default ${relative(REPO_ROOT, DEFAULT_TEST)})` },
  { name: 'scale', kind: 'value', valueName: 'K', help: 'ingest the training sessions K times (K−1 older copies) before testing (default 1)' },
  { name: 'durability', kind: 'value', valueName: 'MODE', help: 'fsync | commit | none (default commit)' },
  { name: 'batch', kind: 'value', valueName: 'N', help: 'training events per submit (default 2000)' },
  { name: 'parallel', kind: 'value', valueName: 'N', help: 'test sessions replayed at once, one click each per submit (default 200)' },
  { name: 'test-sessions', kind: 'value', valueName: 'N', help: 'replay only the first N test sessions (default all)' },
  { name: 'workers', kind: 'value', valueName: '1|2', help: '1: openEngine in this thread; 2: openThreadedEngine, two engine threads sharing the partitions, this thread building the events (default 1)' },
  { name: 'cache-entries', kind: 'value', valueName: 'N', help: 'decoded state values the engine keeps in memory (default: the engine default, as omni serve)' },
];

export const RECS_HELP = `Usage: omni bench recs [--train FILE] [--test FILE] [flags]

Replays the training file through the engine (activity.viewed, ts = click time, one customer
per session), then each test session click by click, asking for 20 recommendations after each
click through the engine's query API, and prints HR@20, MRR@20, ingest events/s with the
recommendation update, the apply cost per event, and query latency. Without --train / --test it
runs train_tr → train_valid of the YooChoose sample kept in the repository (test/fixtures/yoochoose,
whose README says where it comes from). Reference on that split: V-SKNN HR@20 0.648 / MRR@20 0.360
(the target to beat); popularity 0.090 / 0.018.

Flags:
${describeFlags(RECS_FLAGS)}`;

export interface RecsBenchOptions {
  train: string;
  test: string;
  scale: number;
  durability: Durability;
  batch: number;
  parallel: number;
  testSessions: number;
  workers: number;
  cacheEntries?: number;
}

export function readRecsOptions(argv: readonly string[]): RecsBenchOptions | 'help' {
  const f = readFlags(argv, RECS_FLAGS);
  if (f.help) return 'help';
  const o: RecsBenchOptions = {
    train: resolve(f.string('train') ?? DEFAULT_TRAIN),
    test: resolve(f.string('test') ?? DEFAULT_TEST),
    scale: f.int('scale', 1, 1, 100),
    durability: f.choice<Durability>('durability', 'commit', ['fsync', 'commit', 'none']),
    batch: f.int('batch', 2000, 1, 10_000),
    parallel: f.int('parallel', 200, 1, 10_000),
    testSessions: f.int('test-sessions', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER),
    workers: f.int('workers', 1, 1, 2),
    ...(f.string('cache-entries') !== undefined ? { cacheEntries: f.int('cache-entries', 0, 1000, 100_000_000) } : {}),
  };
  if (o.train === o.test) throw new UsageError('--train and --test must be different files');
  return o;
}

export interface RecsBenchResult {
  trainSessions: number;
  trainEvents: number;
  sessionsStored: number;
  ingestEventsPerS: number;
  applyUsPerEvent: number;
  testSessions: number;
  predictions: number;
  hr20: number;
  mrr20: number;
  clickToDurable: LatencySummary;
  query: LatencySummary;
}

const IN_FLIGHT = 4;

export async function runRecsBench(o: RecsBenchOptions): Promise<RecsBenchResult> {
  console.log(`  data    : ${describeData(o.train, o.test)}`);
  const train = readSessions(o.train);
  const test = readSessions(o.test).slice(0, o.testSessions);
  const dir = freshDir('recs');
  console.log(`  engine  : --workers ${o.workers} (${o.workers === 1 ? 'openEngine, one thread' : 'openThreadedEngine, two engine threads sharing the partitions'}), durability ${o.durability}`);
  const engine = await openBenchEngine({ path: dir, durability: o.durability, workers: o.workers, cacheEntries: o.cacheEntries });
  try {
    const batches: BatchStats[] = [];
    const stop = engine.onBatch((s) => batches.push(s));
    const span = train.length ? train[train.length - 1].clicks.at(-1)!.time - train[0].clicks[0].time + 3_600_000 : 0;
    // Older copies first, the original last: the test sessions follow the original in time.
    // Built a chunk at a time, as a server receives them: the whole stream held in this
    // process's heap would make the engine's garbage collection pay for the bench's memory.
    const total = train.reduce((n, s) => n + s.clicks.length, 0) * o.scale;
    const ingestStart = performance.now();
    const threadCpu = new ThreadCpuMonitor();
    await submitAll(engine, trainingEvents(train, o.scale, span), o.batch);
    const threads = threadCpu.stop();
    const ingestS = (performance.now() - ingestStart) / 1000;
    const applied = batches.splice(0);
    const applyMs = applied.reduce((a, b) => a + b.applyMs, 0);
    const appliedEvents = applied.reduce((a, b) => a + b.events, 0);
    console.log(`  ingest  : ${fmtInt(total)} activity events (${fmtInt(train.length * o.scale)} sessions) in ${ingestS.toFixed(2)} s = ${fmtInt(total / ingestS)} events/s; apply ${((applyMs * 1000) / Math.max(1, appliedEvents)).toFixed(1)} µs/event; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
    console.log(`  threads : ${fmtThreadCpu(threads, total / ingestS)}`);

    const replay = await replayTests(engine, test, o.parallel);
    stop();
    const result: RecsBenchResult = {
      trainSessions: train.length,
      trainEvents: total,
      sessionsStored: train.length * o.scale + test.length,
      ingestEventsPerS: total / ingestS,
      applyUsPerEvent: (applyMs * 1000) / Math.max(1, appliedEvents),
      testSessions: test.length,
      ...replay,
    };
    printRecs(result);
    return result;
  } finally {
    await engine.close();
    removeDir(dir);
  }
}

/** Which files the run reads, saying so when they are the sample kept in the repository. */
function describeData(train: string, test: string): string {
  const inSample = (file: string) => dirname(file) === SAMPLE_DIR;
  const name = (file: string) => (inSample(file) ? relative(REPO_ROOT, file) : file);
  const both = `${name(train)} → ${name(test)}`;
  if (inSample(train) && inSample(test)) return `${both} (the YooChoose sample kept in the repository)`;
  return both;
}

function* trainingEvents(train: Session[], scale: number, span: number): Generator<InputEvent> {
  for (let copy = scale - 1; copy >= 0; copy--) {
    for (const s of train) {
      for (let i = 0; i < s.clicks.length; i++) {
        const c = s.clicks[i];
        yield { id: `t${copy}:${s.session}:${i}`, type: 'activity.viewed', subject: `train${copy}:${s.session}`, sku: c.sku, channel: 'web', ts: c.time - copy * span };
      }
    }
  }
}

async function submitAll(engine: BenchEngine, events: Iterator<InputEvent>, batch: number): Promise<void> {
  let failed = 0;
  let done = false;
  const take = (): InputEvent[] => {
    const chunk: InputEvent[] = [];
    while (chunk.length < batch) {
      const next = events.next();
      if (next.done) {
        done = true;
        break;
      }
      chunk.push(next.value);
    }
    return chunk;
  };
  const lane = async () => {
    while (!done) {
      const chunk = take();
      if (chunk.length === 0) break;
      for (const r of await engine.submit(chunk)) if (!r.ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  if (failed > 0) throw new Error(`${failed} training events were rejected`);
}

async function replayTests(engine: BenchEngine, test: Session[], parallel: number) {
  let hits = 0;
  let rr = 0;
  let predictions = 0;
  const durable = latencyHistogram();
  const query = latencyHistogram();
  for (let start = 0; start < test.length; start += parallel) {
    const group = test.slice(start, start + parallel);
    const longest = Math.max(...group.map((s) => s.clicks.length));
    for (let j = 0; j < longest; j++) {
      const live = group.filter((s) => s.clicks.length > j);
      const events = live.map((s) => ({ id: `q:${s.session}:${j}`, type: 'activity.viewed', subject: `test:${s.session}`, sku: s.clicks[j].sku, channel: 'web', ts: s.clicks[j].time }));
      const sent = performance.now();
      const results = await engine.submit(events);
      durable.recordValue(Math.max(1, Math.round((performance.now() - sent) * 1000)));
      if (results.some((r) => !r.ok)) throw new Error(`a test click was rejected: ${JSON.stringify(results.find((r) => !r.ok))}`);
      for (const s of live) {
        if (j + 1 >= s.clicks.length) continue;
        const t0 = performance.now();
        const answer = engine.query('customers', 'recommendations', { subject: `test:${s.session}`, limit: 20 }) as Recommendations;
        query.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        const rank = answer.items.findIndex((i) => i.sku === s.clicks[j + 1].sku);
        predictions++;
        if (rank >= 0) {
          hits++;
          rr += 1 / (rank + 1);
        }
      }
    }
  }
  return { predictions, hr20: hits / predictions, mrr20: rr / predictions, clickToDurable: summariseLatency(durable), query: summariseLatency(query) };
}

function printRecs(r: RecsBenchResult): void {
  console.log(`  test    : ${fmtInt(r.testSessions)} sessions, ${fmtInt(r.predictions)} predictions, ${fmtInt(r.sessionsStored)} sessions stored`);
  console.log(`  quality : HR@20 ${r.hr20.toFixed(4)}, MRR@20 ${r.mrr20.toFixed(4)} (reference V-SKNN 0.648 / 0.360: ${r.hr20 > 0.648 && r.mrr20 > 0.36 ? 'beaten' : 'NOT beaten'})`);
  console.log(`  click→durable (a submit of one click per replayed session) ${fmtLatency(r.clickToDurable)}`);
  console.log(`  query   : ${fmtLatency(r.query)} — target p99 ≤ 1 ms: ${r.query.p99Ms <= 1 ? 'met' : 'MISSED'}`);
  console.log(`  ingest  : target ≥ 50,000 events/s: ${r.ingestEventsPerS >= 50_000 ? 'met' : 'MISSED'}`);
}

export function recsHeadline(r: RecsBenchResult): Record<string, number> {
  return {
    hr20: r.hr20,
    mrr20: r.mrr20,
    ingestEventsPerS: r.ingestEventsPerS,
    applyUsPerEvent: r.applyUsPerEvent,
    queryP50Ms: r.query.p50Ms,
    queryP99Ms: r.query.p99Ms,
    queryP999Ms: r.query.p999Ms,
  };
}
