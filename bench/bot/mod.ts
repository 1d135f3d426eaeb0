// `omni bench bot`: the service bot answering first contact through a real engine. Part 1
// (latency.ts): how long a customer waits for the bot's answer with 1,000 and 10,000 entries,
// and the engine's apply time of it. Part 2 (throughput.ts): service requests/s with the bot in
// `first` mode beside `off`, the same request stream, alternating runs.

import type { Durability } from '../../engine/mod.ts';
import { defineBench } from '../shared/bench-def.ts';
import { describeFlags, readFlags, UsageError, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtMs, printTable } from '../shared/report.ts';
import { runLatency, type LatencyOptions, type LatencyRow } from './latency.ts';
import { runThroughput, type ThroughputOptions, type ThroughputResult } from './throughput.ts';

const PARTS = ['both', 'latency', 'throughput'] as const;
const DURABILITIES = ['fsync', 'commit', 'none'] as const;

const BOT_FLAGS: FlagSpec[] = [
  { name: 'part', kind: 'value', valueName: 'P', help: `${PARTS.join(' | ')} (default both)` },
  { name: 'sizes', kind: 'value', valueName: 'N,…', help: 'latency: entries in the knowledge base, one measurement each (default 1000,10000)' },
  { name: 'requests', kind: 'value', valueName: 'M', help: 'latency: timed requests per size, one at a time (default 1000)' },
  { name: 'warmup-requests', kind: 'value', valueName: 'W', help: 'latency: untimed requests first (default 50)' },
  { name: 'entries', kind: 'value', valueName: 'N', help: 'throughput: entries in the knowledge base (default 1000)' },
  { name: 'rounds', kind: 'value', valueName: 'R', help: 'throughput: rounds, each one run with the bot off and one in first mode (default 3)' },
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'throughput: measured seconds per run (default 5)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'throughput: seconds before measuring, per run (default 1)' },
  { name: 'concurrency', kind: 'value', valueName: 'C', help: 'throughput: customers each with one request in flight (default 64)' },
  { name: 'durability', kind: 'value', valueName: 'D', help: `${DURABILITIES.join(' | ')} (default fsync, the engine's)` },
];

const BOT_HELP = `Usage: omni bench bot [flags]

The service bot in a real engine (a temp data dir), its knowledge base stored through
faq.upserted: the fixture's entries repeated, each copy with words of its own. Requests carry
the labelled customer questions of fixtures/ in turn as their text, on the chat channel.

latency     --bot first, one request at a time: submit → its answer and the bot's message
            (p50, p99, max), the engine's apply time of it, and the first answer after a reopen
            (the index rebuilt from the stored entries).
throughput  service requests/s, --bot first beside --bot off: the same request stream, C
            customers each with one request in flight, runs alternating between the modes;
            the median of each mode's runs and their ratio.

Flags:
${describeFlags(BOT_FLAGS)}`;

interface BotOptions {
  part: (typeof PARTS)[number];
  latency: LatencyOptions;
  throughput: ThroughputOptions;
}

interface BotResult {
  latency?: LatencyRow[];
  throughput?: ThroughputResult;
}

function readBotOptions(argv: readonly string[]): BotOptions | 'help' {
  const f = readFlags(argv, BOT_FLAGS);
  if (f.help) return 'help';
  const sizes = (f.string('sizes') ?? '1000,10000').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1_000_000)) throw new UsageError('--sizes: whole numbers from 1 to 1000000');
  const durability: Durability = f.choice('durability', 'fsync', DURABILITIES);
  return {
    part: f.choice('part', 'both', PARTS),
    latency: { sizes, requests: f.int('requests', 1000, 1, 1_000_000), warmup: f.int('warmup-requests', 50, 0, 1_000_000), durability },
    throughput: {
      entries: f.int('entries', 1000, 1, 1_000_000),
      rounds: f.int('rounds', 3, 1, 100),
      seconds: f.num('seconds', 5, 0.1, 3600),
      warmupSeconds: f.num('warmup', 1, 0, 3600),
      concurrency: f.int('concurrency', 64, 1, 10_000),
      durability,
    },
  };
}

const ms = (v: number) => fmtMs(v);

function printLatency(rows: LatencyRow[]): void {
  console.log('\nbot answer latency (--bot first, one request at a time):');
  printTable([
    ['entries', 'store s', 'answer p50 ms', 'answer p99 ms', 'max ms', 'apply p50 ms', 'apply p99 ms', 'confident', 'after reopen ms', 'requests'],
    ...rows.map((r) => [fmtInt(r.entries), (r.storeMs / 1000).toFixed(1), ms(r.answer.p50Ms), ms(r.answer.p99Ms), ms(r.answer.maxMs), ms(r.apply.p50Ms), ms(r.apply.p99Ms), `${(r.confidentShare * 100).toFixed(0)}%`, ms(r.afterReopenMs), fmtInt(r.requests)]),
  ]);
}

function printThroughput(t: ThroughputResult): void {
  console.log('\nservice requests/s, --bot first beside --bot off (runs in the order made):');
  printTable([['round', 'mode', 'requests/s', 'answered by the bot', 'refused'], ...t.runs.map((r) => [String(r.round + 1), r.mode, fmtInt(r.requestsPerS), `${(r.botShare * 100).toFixed(0)}%`, JSON.stringify(r.refused)])]);
  console.log(`median requests/s: off ${fmtInt(t.offPerS)}, first ${fmtInt(t.firstPerS)}; first ÷ off = ${t.ratio.toFixed(2)}`);
}

async function runBot(o: BotOptions): Promise<BotResult> {
  const result: BotResult = {};
  if (o.part !== 'throughput') printLatency((result.latency = await runLatency(o.latency)));
  if (o.part !== 'latency') printThroughput((result.throughput = await runThroughput(o.throughput)));
  return result;
}

function headline(r: BotResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of r.latency ?? []) {
    out[`${row.entries} entries answer p50 ms`] = row.answer.p50Ms;
    out[`${row.entries} entries answer p99 ms`] = row.answer.p99Ms;
    out[`${row.entries} entries apply p99 ms`] = row.apply.p99Ms;
  }
  if (r.throughput) {
    out['off requests/s'] = r.throughput.offPerS;
    out['first requests/s'] = r.throughput.firstPerS;
    out['first ÷ off'] = r.throughput.ratio;
  }
  return out;
}

export const BOT_BENCH = defineBench({ title: 'service bot: first contact', help: BOT_HELP, flags: BOT_FLAGS, read: readBotOptions, run: (o: BotOptions) => runBot(o), headline });
