// `omni bench erasure`: flags, the printed report and the headline figures (one run is
// measure.ts; the events are history.ts; the latency windows windows.ts).

import { cpus, loadavg } from 'node:os';
import type { Durability } from '../../engine/mod.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtMs, printTable } from '../shared/report.ts';
import { runErasureOnce, type ErasureBenchOptions, type ErasureRunResult, type StoreSize } from './measure.ts';

export const ERASURE_FLAGS: FlagSpec[] = [
  { name: 'history', kind: 'value', valueName: 'N', help: "events in the erased customer's history (default 10000)" },
  { name: 'session-length', kind: 'value', valueName: 'N', help: 'activities per session (default 50)' },
  { name: 'messages', kind: 'value', valueName: 'N', help: 'messages per service request (default 20)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs, each stocked at every location (default 5000)' },
  { name: 'stores', kind: 'value', valueName: 'S', help: 'locations (default 20; every tenth a warehouse)' },
  { name: 'customers', kind: 'value', valueName: 'N', help: 'other customers, a link and four activities each (default 20000)' },
  { name: 'rate', kind: 'value', valueName: 'R', help: 'other traffic, events/s: stock events and other customers’ activity, half each (default 100: a steady stream even on a busy 2-core host)' },
  { name: 'batch', kind: 'value', valueName: 'N', help: 'most events of the other traffic per request (default 50)' },
  { name: 'connections', kind: 'value', valueName: 'C', help: 'keep-alive connections for the other traffic (default 16)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'other traffic before the before window, not counted (default 3)' },
  { name: 'before', kind: 'value', valueName: 'S', help: 'seconds of other traffic counted before the erasure (default 10)' },
  { name: 'after', kind: 'value', valueName: 'S', help: 'seconds of other traffic counted after the erasure is over (default 10)' },
  { name: 'durability', kind: 'value', valueName: 'MODE', help: 'fsync | commit | none (default fsync, as omni serve)' },
  { name: 'workers', kind: 'value', valueName: 'N', help: "omni serve --workers N (default: the server's own, one per core)" },
];

export const ERASURE_HELP = `Usage: omni bench erasure [flags]

One customer with a long history (sessions of activity, service requests with their messages,
orders placed and fulfilled, loyalty points earned and redeemed; 10,000 events by default, linked
under four ids) on an "omni serve" child process that also holds other customers and stores'
stock. While other traffic (stock events and other customers' activity) runs open-loop over HTTP
at a fixed rate, customer.erased is sent on a connection of its own. Reports the time from
sending it to its answer (and the store rewrite's time, when the server rewrites its files after
an erasure), the other traffic's ack latency (from each event's scheduled time) in the windows
before, during and after the erasure, the store's size before and after, and whether anything of
the customer still answers afterwards. Figures only: nothing is asserted against a target.

Flags:
${describeFlags(ERASURE_FLAGS)}`;

export function readErasureOptions(argv: readonly string[]): ErasureBenchOptions | 'help' {
  const f = readFlags(argv, ERASURE_FLAGS);
  if (f.help) return 'help';
  const workers = f.string('workers');
  return {
    events: f.int('history', 10_000, 100, 1_000_000),
    sessionLength: f.int('session-length', 50, 1, 10_000),
    messagesPerRequest: f.int('messages', 20, 1, 10_000),
    skus: f.int('skus', 5000, 1, 1_000_000),
    stores: f.int('stores', 20, 1, 1000),
    customers: f.int('customers', 20_000, 0, 10_000_000),
    rate: f.num('rate', 100, 1, 1_000_000),
    batch: f.int('batch', 50, 1, 10_000),
    connections: f.int('connections', 16, 1, 1000),
    warmupSeconds: f.num('warmup', 3, 0, 600),
    beforeSeconds: f.num('before', 10, 0.1, 3600),
    afterSeconds: f.num('after', 10, 0.1, 3600),
    durability: f.choice<Durability>('durability', 'fsync', ['fsync', 'commit', 'none']),
    workers: workers === undefined ? undefined : f.int('workers', 0, 1, 16),
  };
}

export interface ErasureBenchResult extends ErasureRunResult {
  loadAverage: number[];
}

export async function runErasureBench(o: ErasureBenchOptions, runNo = 0): Promise<ErasureBenchResult> {
  console.log(`\n[${o.durability}, --workers ${o.workers ?? 'default'}] other traffic ${fmtInt(o.rate)} events/s over ${o.connections} connections`);
  const r = await runErasureOnce(o, runNo, (line) => console.log(line));
  const result = { ...r, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) };
  printRun(result);
  return result;
}

const MIB = 1024 ** 2;
const fmtSize = (s: StoreSize) => `${fmtInt(s.stateEntries)} state entries, ${(s.usedBytes / MIB).toFixed(1)} MiB in use, ${(s.fileBytes / MIB).toFixed(1)} MiB of files`;

function printRun(r: ErasureBenchResult): void {
  const c = r.history.counts;
  console.log(`              ${fmtInt(c.activities)} activities in ${fmtInt(c.sessions)} sessions, ${fmtInt(c.requests)} requests with ${fmtInt(c.messages)} messages, ${fmtInt(c.orders)} orders, ${fmtInt(c.earned)} earnings and ${fmtInt(c.redeemed)} redemptions`);
  console.log(`  before    : ${fmtSize(r.before)}`);
  console.log(`  erasure   : answered after ${fmtMs(r.answerMs)} ms: ${JSON.stringify(r.answer)}`);
  const w = r.rewrite;
  if (w) {
    const copying = w.copyingSeenAfterMs === undefined ? 'its copy not seen (between two polls)' : `its copy seen from ${fmtMs(w.copyingSeenAfterMs)} ms`;
    const engine = w.engineMs === undefined ? 'the server reports no duration' : `${fmtMs(w.engineMs)} ms by the engine's own figure`;
    console.log(`  rewrite   : data.mdb replaced ${fmtMs(w.swappedSeenAfterMs)} ms after sending the erasure, ${copying}; ${engine}`);
  } else console.log('  rewrite   : none (the data file was not replaced within 10 s of the answer: this server does not rewrite its store)');
  console.log(`  after     : ${fmtSize(r.after)}`);
  const t = r.traffic;
  console.log(`  traffic   : ${fmtInt(t.sent)} events sent, ${fmtInt(t.acked)} ok, ${fmtInt(t.errors)} refused${t.errors ? ` ${JSON.stringify(t.errorCodes)}` : ''}; requests held back by the connection cap in ${fmtInt(t.overloadedTicks)} ticks (at most ${fmtInt(t.maxWaiting)} events)`);
  const rows = [['window', 'events', 'p50 ms', 'p99 ms', 'max ms', 'refused']];
  for (const [name, w] of Object.entries(r.windows)) rows.push([name, fmtInt(w.count), fmtMs(w.p50), fmtMs(w.p99), fmtMs(w.max), fmtInt(w.errors)]);
  printTable(rows);
  const left = r.leftReadable;
  console.log(`  read back : ${left.ids} of the customer's ids, ${left.requests} of its ${c.requests} requests, ${left.ordersNamingCustomer} of its ${c.orders} orders still name it`);
  console.log(`  load      : ${r.loadAverage.join(' / ')} (1 / 5 / 15 min) on ${cpus().length} CPUs at the end`);
}

export function erasureHeadline(r: ErasureBenchResult): Record<string, number> {
  const out: Record<string, number> = {
    historyEvents: r.history.events,
    stateEntries: r.before.stateEntries,
    usedMiB: r.before.usedBytes / MIB,
    erasureAnswerMs: r.answerMs,
  };
  if (r.rewrite) {
    out.erasureEndMs = r.rewrite.swappedSeenAfterMs;
    if (r.rewrite.copyingSeenAfterMs !== undefined) out.rewriteSeenMs = r.rewrite.swappedSeenAfterMs - r.rewrite.copyingSeenAfterMs;
    if (r.rewrite.engineMs !== undefined) out.rewriteEngineMs = r.rewrite.engineMs;
  }
  for (const [name, w] of Object.entries(r.windows)) {
    out[`${name}.p50Ms`] = w.p50;
    out[`${name}.p99Ms`] = w.p99;
    out[`${name}.maxMs`] = w.max;
  }
  out.leftReadable = r.leftReadable.ids + r.leftReadable.requests + r.leftReadable.ordersNamingCustomer;
  return out;
}
