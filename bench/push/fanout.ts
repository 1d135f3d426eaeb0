// `omni bench fanout`: push fan-out side by side — omnistream's gateway, a `ws` server and a
// Socket.IO server (msgpack parser), each a fresh child process, under the same load generator
// workload: the same set-up, the same subscribers (one Zipf-popular stock/<sku> topic each), the
// same open-loop stock ingest. Reports per target what was delivered and how late, the CPU each
// side used, and the ratios omnistream / peer (the push targets in docs/benchmarks.md: ≥ 5× ws and ≥ 10× Socket.IO
// delivered messages/s at no worse p99, p99 ≤ 20 ms).

import { UsageError, describeFlags, readFlags, readWorkerList, type FlagSpec } from '../shared/flags.ts';
import { measureTarget, type FanoutRunOptions, type TargetResult } from './fanout-run.ts';
import { TARGETS, startTarget, type Durability, type TargetName } from './fanout-targets.ts';
import { fmtInt, fmtMs, printTable, type Spread } from '../shared/report.ts';
import { fmtThreadCpu } from '../shared/thread-cpu.ts';
import { defaultWorkers } from '../../loadgen/mod.ts';

export const FANOUT_FLAGS: FlagSpec[] = [
  { name: 'targets', kind: 'value', valueName: 'LIST', help: `comma-separated subset of ${TARGETS.join(',')} (default all; the order rotates from run to run)` },
  { name: 'quick', kind: 'switch', help: 'smaller defaults: 1,000 subscribers, 5,000 events/s, 10 s + 3 s warm-up' },
  { name: 'subscribers', kind: 'value', valueName: 'N', help: 'WebSocket clients, one stock/<sku> topic each, SKUs drawn Zipf (default 10000)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs in the workload, × 10 locations (default 10000)' },
  { name: 'rate', kind: 'value', valueName: 'EVENTS_PER_S', help: 'stock events per second, open loop (default 50000)' },
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured seconds per target (default 20)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'warm-up seconds before them, under the same load, not counted (default 5)' },
  { name: 'format', kind: 'value', valueName: 'msgpack|json', help: 'ingest bodies and omni/ws frames (default msgpack, as Socket.IO with its msgpack parser)' },
  { name: 'durability', kind: 'value', valueName: 'MODE', help: "omnistream's --durability: fsync | commit | none (default fsync; the peers have none)" },
  { name: 'batch', kind: 'value', valueName: 'N', help: 'most events per POST (default 500)' },
  { name: 'connections', kind: 'value', valueName: 'C', help: 'HTTP connections = most POSTs in flight (default 64)' },
  { name: 'workers', kind: 'value', valueName: 'N', help: 'subscriber worker threads (default 2 above 500 subscribers, else 0)' },
  { name: 'omni-workers', kind: 'value', valueName: '1|2|1,2', help: "omni serve's --workers; 1,2: omnistream twice (omni-w1, omni-w2), compared (default: the server's own, the number of cores)" },
];

export const FANOUT_HELP = `Usage: omni bench fanout [--targets omni,ws,socketio] [--quick] [flags]

For each target in turn: spawns it fresh (omni serve on a fresh data dir; the ws and Socket.IO
peers of bench/push/peers/), posts the same locations and starting stock, connects the same
subscribers, drives the same open-loop stock ingest for warm-up + measured seconds, and reports
acked events/s, delivered messages/s, push latency (receive − update.ts) percentiles, errors and
CPU, then the ratios omni / ws and omni / socketio. --runs K repeats all and reports medians.

Flags:
${describeFlags(FANOUT_FLAGS)}`;

export interface FanoutOptions extends FanoutRunOptions {
  targets: TargetName[];
  durability: Durability;
  /** omni serve's --workers for each omnistream variant; undefined: its default. */
  omniWorkers?: number[];
}

/** What one turn runs: a target, and for omnistream its --workers (then named omni-w1, omni-w2). */
interface Variant {
  name: TargetName;
  label: string;
  workers?: number;
}

function variantsOf(o: FanoutOptions): Variant[] {
  return o.targets.flatMap((name): Variant[] => {
    if (name !== 'omni' || o.omniWorkers === undefined) return [{ name, label: name }];
    if (o.omniWorkers.length === 1) return [{ name, label: name, workers: o.omniWorkers[0] }];
    return o.omniWorkers.map((workers) => ({ name, label: `omni-w${workers}`, workers }));
  });
}

export function readFanoutOptions(argv: readonly string[]): FanoutOptions | 'help' {
  const f = readFlags(argv, FANOUT_FLAGS);
  if (f.help) return 'help';
  const quick = f.switch('quick');
  const targets = (f.string('targets') ?? TARGETS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of targets) if (!(TARGETS as readonly string[]).includes(t)) throw new UsageError(`--targets: unknown target '${t}' (${TARGETS.join(', ')})`);
  if (targets.length === 0) throw new UsageError('--targets: name at least one target');
  const subscribers = f.int('subscribers', quick ? 1000 : 10_000, 0, 100_000);
  return {
    targets: [...new Set(targets)] as TargetName[],
    subscribers,
    skus: f.int('skus', 10_000, 1, 10_000_000),
    rate: f.num('rate', quick ? 5000 : 50_000, 1, 10_000_000),
    seconds: f.num('seconds', quick ? 10 : 20, 1, 3600),
    warmupS: f.num('warmup', quick ? 3 : 5, 0, 600),
    format: f.choice('format', 'msgpack', ['msgpack', 'json'] as const),
    durability: f.choice('durability', 'fsync', ['fsync', 'commit', 'none'] as const),
    batch: f.int('batch', 500, 1, 10_000),
    connections: f.int('connections', 64, 1, 4096),
    workers: f.int('workers', defaultWorkers(subscribers), 0, 16),
    omniWorkers: f.string('omni-workers') === undefined ? undefined : readWorkerList(f.string('omni-workers'), []),
    tickMs: 5,
    drainMs: 10_000,
  };
}

export interface FanoutResult {
  options: FanoutOptions;
  targets: TargetResult[];
  ratios: Record<string, number>;
}

export async function runFanoutBench(o: FanoutOptions, runNo = 0): Promise<FanoutResult> {
  console.log(`\nworkload: ${fmtInt(o.subscribers)} subscribers × 1 stock/<sku> topic (Zipf over ${fmtInt(o.skus)} SKUs), ${fmtInt(o.rate)} stock events/s open loop, ${o.format}, ${o.warmupS} s warm-up + ${o.seconds} s measured per target`);
  const results: TargetResult[] = [];
  // Each run starts with another target, so a slow spell of the machine does not always fall on the same one.
  const variants = variantsOf(o);
  const order = variants.map((_, i) => variants[(i + runNo) % variants.length]);
  for (const { name, label, workers } of order) {
    console.log(`\n[${label}${workers ? `: omni serve --workers ${workers}` : ''}]`);
    const target = await startTarget(name, o.durability, workers);
    try {
      console.log(`  durability: ${target.durability}`);
      const r = { ...(await measureTarget(target, o, runNo, (line) => console.log(`  ${line}`))), target: label };
      printTarget(r);
      results.push(r);
    } catch (error) {
      const said = target.stderr().trim();
      if (said) console.error(`${name} said:\n${said}`);
      throw error;
    } finally {
      await target.stop();
    }
  }
  console.log('');
  printTable([
    ['target', 'acked ev/s', 'delivered msg/s', 'push p50 ms', 'p99', 'p999', 'max', 'late msgs', 'errors', 'server CPU', 'loadgen CPU'],
    ...results.map((r) => [
      r.target,
      fmtInt(r.ackedPerS),
      fmtInt(r.deliveredPerS),
      fmtMs(r.push.p50),
      fmtMs(r.push.p99),
      fmtMs(r.push.p999),
      fmtMs(r.push.max),
      fmtInt(r.lateMessages),
      fmtInt(r.ingestErrors + r.unanswered + r.subscriberErrors),
      r.serverCpu === undefined ? 'n/a' : `${(r.serverCpu * 100).toFixed(0)}%`,
      `${(r.loadgenCpu * 100).toFixed(0)}%`,
    ]),
  ]);
  const ratios = fanoutRatios(Object.fromEntries(results.flatMap((r) => [[`${r.target}.ackedPerS`, r.ackedPerS], [`${r.target}.deliveredPerS`, r.deliveredPerS], [`${r.target}.pushP99Ms`, r.push.p99]])));
  printRatios(ratios);
  return { options: o, targets: results, ratios };
}

function printTarget(r: TargetResult): void {
  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(0)}%`);
  console.log(`  acked     : ${fmtInt(r.ackedPerS)} events/s (ack p50 ${fmtMs(r.ack.p50)} ms, p99 ${fmtMs(r.ack.p99)} ms)${r.maxWaiting > 0 ? `; in-flight cap held back up to ${fmtInt(r.maxWaiting)} events` : ''}`);
  console.log(`  delivered : ${fmtInt(r.deliveredPerS)} messages/s to ${fmtInt(r.subscribed)}/${fmtInt(r.subscribers)} subscribed clients; ${fmtInt(r.lateMessages)} more arrived after the load ended; ${fmtInt(r.conflated)} seq jumps (conflation)`);
  console.log(`  push      : p50 ${fmtMs(r.push.p50)} ms, p99 ${fmtMs(r.push.p99)} ms, p999 ${fmtMs(r.push.p999)} ms, max ${fmtMs(r.push.max)} ms (n=${fmtInt(r.push.count)})`);
  console.log(`  errors    : ingest ${fmtInt(r.ingestErrors)}${Object.keys(r.errorCodes).length ? ` ${JSON.stringify(r.errorCodes)}` : ''}${r.firstFailure ? ` (first: ${r.firstFailure})` : ''}, unanswered ${fmtInt(r.unanswered)}, subscribers ${fmtInt(r.subscriberErrors)}${r.errorSamples.length ? ` (${r.errorSamples.join('; ')})` : ''}, seq errors ${fmtInt(r.seqErrors)}`);
  console.log(`  CPU       : server ${pct(r.serverCpu)} of a core, load generator ${pct(r.loadgenCpu)}; load average ${r.loadAverage[0].toFixed(2)} → ${r.loadAverage[1].toFixed(2)}`);
  console.log(`  threads   : server ${fmtThreadCpu(r.serverThreads)}`);
}

/** omni / peer for delivered messages/s (higher is better) and for push p99 (lower is better). */
export function fanoutRatios(figures: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const peer of ['ws', 'socketio']) {
    const [od, pd] = [figures['omni.deliveredPerS'], figures[`${peer}.deliveredPerS`]];
    const [op, pp] = [figures['omni.pushP99Ms'], figures[`${peer}.pushP99Ms`]];
    if (od !== undefined && pd > 0) out[`delivered omni/${peer}`] = od / pd;
    if (op !== undefined && pp > 0) out[`push p99 omni/${peer}`] = op / pp;
  }
  for (const [figure, key] of [['acked', 'ackedPerS'], ['delivered', 'deliveredPerS'], ['push p99', 'pushP99Ms']]) {
    const [one, two] = [figures[`omni-w1.${key}`], figures[`omni-w2.${key}`]];
    if (one > 0 && two !== undefined) out[`${figure} omni-w2/omni-w1`] = two / one;
  }
  return out;
}

function printRatios(ratios: Record<string, number>): void {
  if (Object.keys(ratios).length === 0) return;
  console.log(`\nratios (delivered: higher favours omnistream; p99: below 1 favours omnistream):`);
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(26)} ${v.toFixed(2)}×`);
}

export function fanoutHeadline(r: FanoutResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of r.targets) {
    out[`${t.target}.ackedPerS`] = t.ackedPerS;
    out[`${t.target}.deliveredPerS`] = t.deliveredPerS;
    out[`${t.target}.pushP50Ms`] = t.push.p50;
    out[`${t.target}.pushP99Ms`] = t.push.p99;
    out[`${t.target}.pushP999Ms`] = t.push.p999;
    out[`${t.target}.serverCpuPct`] = (t.serverCpu ?? NaN) * 100;
    out[`${t.target}.loadgenCpuPct`] = t.loadgenCpu * 100;
    out[`${t.target}.subscribedPct`] = (t.subscribed / Math.max(1, t.subscribers)) * 100;
    out[`${t.target}.lateMessages`] = t.lateMessages;
    out[`${t.target}.errors`] = t.ingestErrors + t.unanswered + t.subscriberErrors + t.seqErrors;
    const main = t.serverThreads.find((th) => th.name === 'main');
    const other = t.serverThreads.find((th) => th.name !== 'main');
    if (main) out[`${t.target}.serverMainThreadCpuPct`] = main.cores * 100;
    if (other) out[`${t.target}.serverBusiestOtherThreadCpuPct`] = other.cores * 100;
  }
  return out;
}

/** The ratios of the medians over --runs K. */
export function fanoutDerived(spreads: Record<string, Spread>): Record<string, number> {
  return fanoutRatios(Object.fromEntries(Object.entries(spreads).map(([k, s]) => [k, s.median])));
}
