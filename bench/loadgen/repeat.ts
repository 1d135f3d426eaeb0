// `omni bench loadgen`: the same `omni loadgen` run K times, each against a fresh `omni serve`
// child process on a fresh data dir, so that the load generator's own figures can be checked for
// reproducibility (target: within ±10% across runs on a quiet machine). The spread over runs is
// reported as the largest deviation from the median, per figure.

import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { readOptions, runLoadgen, type LoadgenReport } from '../../loadgen/mod.ts';
import { UsageError, describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtMs, type Spread } from '../shared/report.ts';
import { freshDir, processCpuSeconds, removeDir, startServer } from '../shared/server-process.ts';

export const LOADGEN_FLAGS: FlagSpec[] = [
  { name: 'durability', kind: 'value', valueName: 'MODE', help: "the server's --durability: fsync | commit | none (default fsync, as omni serve)" },
  { name: 'loadgen', kind: 'value', valueName: '"FLAGS"', help: 'omni loadgen flags for every run, as one argument: --loadgen="--rate 20000 --subscribers 1000 --duration 20" (default --rate 10000 --subscribers 200 --duration 15); --url and tokens are set by the bench' },
];

export const LOADGEN_HELP = `Usage: omni bench loadgen [--runs K] [--durability MODE] [--loadgen="LOADGEN FLAGS"]

Runs "omni loadgen" K times with the same flags, each time against a fresh "omni serve" child
process on a fresh data dir (so no run inherits another's data), and reports every figure of the
loadgen report as median [min … max] with its largest deviation from the median — the
reproducibility check of the load generator.

Flags:
${describeFlags(LOADGEN_FLAGS)}`;

export interface LoadgenBenchOptions {
  durability: 'fsync' | 'commit' | 'none';
  loadgenArgs: string[];
}

const DEFAULT_LOADGEN_ARGS = ['--rate', '10000', '--subscribers', '200', '--duration', '15'];
/** Flags the bench sets itself for every run. */
const OWNED = ['url', 'token', 'secret', 'data', 'report', 'html'];

export function readLoadgenBenchOptions(argv: readonly string[]): LoadgenBenchOptions | 'help' {
  const f = readFlags(argv, LOADGEN_FLAGS);
  if (f.help) return 'help';
  const raw = f.string('loadgen');
  const loadgenArgs = raw === undefined ? DEFAULT_LOADGEN_ARGS : raw.split(/\s+/).filter(Boolean);
  for (const arg of loadgenArgs) {
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0] : undefined;
    if (name !== undefined && OWNED.includes(name)) throw new UsageError(`--loadgen: --${name} is set by the bench for each run`);
  }
  // Checked once up front, so a mistake fails before any server starts.
  readOptions(['--url', 'http://127.0.0.1:1', '--secret', 'check', ...loadgenArgs]);
  return { durability: f.choice('durability', 'fsync', ['fsync', 'commit', 'none'] as const), loadgenArgs };
}

export interface LoadgenBenchRun {
  report: LoadgenReport;
  serverCpu: number | undefined;
  loadBefore: number;
}

export async function runLoadgenBench(o: LoadgenBenchOptions): Promise<LoadgenBenchRun> {
  const dataDir = freshDir('loadgen');
  const secret = randomBytes(16).toString('hex');
  const server = startServer({ dataDir, secret, durability: o.durability });
  try {
    const url = await server.listening;
    const options = readOptions(['--url', url, '--secret', secret, ...o.loadgenArgs]);
    if (options === 'help') throw new UsageError('--loadgen: --help is not a run');
    options.progress = false;
    const loadBefore = loadavg()[0];
    const cpu0 = processCpuSeconds(server.pid);
    const started = performance.now();
    const { report } = await runLoadgen(options, () => undefined);
    const cpu1 = processCpuSeconds(server.pid);
    // Over the whole invocation (set-up, subscribing and drain too), so a little below the load's own share.
    const serverCpu = cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / ((performance.now() - started) / 1000);
    const l = report.latencyMs;
    console.log(
      `  acked ${fmtInt(report.eventsPerS)} events/s (${fmtInt(report.acked)} of ${fmtInt(report.sent)}, ${fmtInt(report.errors)} errors), ` +
        `pushes ${fmtInt(report.messagesPerS)}/s; ack p50/p99 ${fmtMs(l.ack.p50)}/${fmtMs(l.ack.p99)} ms, push p50/p99 ${fmtMs(l.push.p50)}/${fmtMs(l.push.p99)} ms; ` +
        `loadgen CPU ${pct(report.loadgenCpu)}, server CPU ${serverCpu === undefined ? '?' : pct(serverCpu)}, load ${loadBefore.toFixed(2)} before`,
    );
    return { report, serverCpu, loadBefore };
  } finally {
    await server.stop();
    removeDir(dataDir);
  }
}

export function loadgenHeadline(r: LoadgenBenchRun): Record<string, number> {
  const l = r.report.latencyMs;
  const headline: Record<string, number> = {
    eventsPerS: r.report.eventsPerS,
    messagesPerS: r.report.messagesPerS,
    ackP50Ms: l.ack.p50,
    ackP99Ms: l.ack.p99,
    loadgenCpuPct: r.report.loadgenCpu * 100,
  };
  if (r.report.received > 0) Object.assign(headline, { pushP50Ms: l.push.p50, pushP99Ms: l.push.p99 });
  // The service scenario's agent desks.
  if (l.offer !== undefined) Object.assign(headline, { offerP50Ms: l.offer.p50, offerP99Ms: l.offer.p99 });
  if (l.assign !== undefined) Object.assign(headline, { assignP50Ms: l.assign.p50, assignP99Ms: l.assign.p99 });
  if (r.report.desks !== undefined) headline.requestsOffered = r.report.desks.requestsOffered;
  if (r.serverCpu !== undefined) headline.serverCpuPct = r.serverCpu * 100;
  return headline;
}

/** The largest deviation from the median, in percent of it, per figure (the ±10% check). */
export function deviationsFromMedian(spreads: Record<string, Spread>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(spreads)) {
    if (s.median === 0) continue;
    out[name] = (100 * Math.max(s.median - s.min, s.max - s.median)) / Math.abs(s.median);
  }
  return out;
}

export function printDeviations(spreads: Record<string, Spread>): void {
  const dev = deviationsFromMedian(spreads);
  const width = Math.max(...Object.keys(dev).map((n) => n.length));
  console.log('\nlargest deviation from the median (reproducibility; the target is within ±10% on a quiet machine):');
  for (const [name, d] of Object.entries(dev)) console.log(`  ${name.padEnd(width)}  ±${d.toFixed(1)}%${d > 10 ? '  (over 10%)' : ''}`);
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}
