// `omni bench routing`: the service domain's performance figures. Part 1 (routing-decisions.ts): the apply
// cost of each kind of routing decision with 5,000 agents online and 50,000 requests queued,
// pure (no LMDB); target p99 ≤ 1 ms. Part 2 (routing-sustained.ts): the real engine taking
// 2,000 new requests/s with offers pushed and accepted; target: sustained. Part 3 (backlog.ts,
// only with --part backlog): CPU per request with too few agents and growing queues, bot off or
// in overflow.

import type { Durability } from '../../engine/mod.ts';
import { UsageError, describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtLatency, fmtMs, printTable } from '../shared/report.ts';
import { DECISION_KINDS, runDecisions, type DecisionOptions, type DecisionsResult } from './decisions.ts';
import { runSustained, type SustainedOptions, type SustainedResult } from './sustained.ts';
import { runBacklog, type BacklogBot, type BacklogOptions, type BacklogResult } from './backlog.ts';
import { fmtRuntime } from '../shared/runtime-monitor.ts';

export const ROUTING_FLAGS: FlagSpec[] = [
  { name: 'part', kind: 'value', valueName: 'pure|engine|both|backlog', help: 'which part to run (default both: pure and engine)' },
  { name: 'agents', kind: 'value', valueName: 'N', help: 'agents online (default 5000)' },
  { name: 'topics', kind: 'value', valueName: 'T', help: 'skill topics (default 20)' },
  { name: 'queued', kind: 'value', valueName: 'M', help: 'part 1: requests queued while decisions are measured (default 50000)' },
  { name: 'samples', kind: 'value', valueName: 'N', help: 'part 1: measured cycles, one decision of each kind per cycle (default 20000)' },
  { name: 'warmup-samples', kind: 'value', valueName: 'N', help: 'part 1: cycles run first and not measured (default 2000)' },
  { name: 'rate', kind: 'value', valueName: 'REQ_PER_S', help: 'part 2: new requests per second, open loop (default 2000)' },
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'part 2: measured time (default 10)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'part 2: time at the same rate before measuring (default 2)' },
  { name: 'durability', kind: 'value', valueName: 'MODE', help: 'part 2: fsync | commit | none (default fsync)' },
  { name: 'think', kind: 'value', valueName: 'MIN-MAX', help: 'part 2: ms from assignment to completion, uniform (default 200-2000)' },
  { name: 'bot', kind: 'value', valueName: 'off|overflow', help: 'backlog: the service bot, overflow with the fixture knowledge base and question texts (default off)' },
  { name: 'rounds', kind: 'value', valueName: 'N', help: 'backlog: measured rounds of 100 requests (default 150)' },
  { name: 'warmup-rounds', kind: 'value', valueName: 'N', help: 'backlog: rounds run first and not measured (default 30)' },
];

export const ROUTING_HELP = `Usage: omni bench routing [flags]

The service routing figures. Part 1, pure (no LMDB): agents (2–5 skills over the topics, levels 1–10,
chat 3 + voice 1, English and maybe one more language) and a backlog of queued requests built
through the service processor on an in-memory view; a tenth of the agents and topics form a
free pool, the backlog's agents are all full. Then each cycle times one decision of each kind
(apply + its writes, as the engine applies them): a request picking a free agent, a completion
picking the best of the backlog, a decline and an offer timeout moving to the next agent, plus
accepts and bookkeeping. p50/p99/p999/max, writes and bytes per event. Target p99 ≤ 1 ms.
Part 2, the real engine (fresh data dir): the agents online, then service.requested open loop
at --rate; the bench accepts every offer when its output arrives and completes each assignment
after a think time. Request→offer (from the scheduled send) and accept→assigned latency,
offers/s and events/s achieved, main-thread busy. Target: sustain 2,000 requests/s.
Backlog (--part backlog only), the real engine (fsync unless --durability): 20 agents of the
same workload (--agents defaults to 20 here) and rounds of 100 requests submitted together;
after each round every offer so far is accepted and every request assigned in the round
before completed, so the queues grow by thousands. --bot overflow stores the 64 entries of
fixtures/knowledge-base.json and makes every request a chat whose text is a labelled question
of fixtures/knowledge-base-questions.jsonl. CPU µs per request (process.cpuUsage over the
measured rounds) and requests/s.

Flags:
${describeFlags(ROUTING_FLAGS)}`;

export interface RoutingBenchOptions {
  parts: { pure: boolean; engine: boolean; backlog: boolean };
  decisions: Omit<DecisionOptions, 'seed'>;
  sustained: SustainedOptions;
  backlog: BacklogOptions;
}

export function readRoutingOptions(argv: readonly string[]): RoutingBenchOptions | 'help' {
  const f = readFlags(argv, ROUTING_FLAGS);
  if (f.help) return 'help';
  const part = f.choice('part', 'both', ['pure', 'engine', 'both', 'backlog'] as const);
  const agents = f.int('agents', part === 'backlog' ? 20 : 5000, 10, 100_000);
  const topics = f.int('topics', 20, 2, 50);
  const think = (f.string('think') ?? '200-2000').split('-').map(Number);
  if (think.length !== 2 || !think.every((n) => Number.isFinite(n) && n >= 0) || think[0] > think[1]) {
    throw new UsageError(`--think must be MIN-MAX in ms (got '${f.string('think')}')`);
  }
  return {
    parts: { pure: part === 'pure' || part === 'both', engine: part === 'engine' || part === 'both', backlog: part === 'backlog' },
    decisions: {
      agents,
      topics,
      queued: f.int('queued', 50_000, 0, 1_000_000),
      samples: f.int('samples', 20_000, 10, 10_000_000),
      warmupSamples: f.int('warmup-samples', 2000, 0, 1_000_000),
    },
    sustained: {
      agents,
      topics,
      rate: f.num('rate', 2000, 1, 100_000),
      seconds: f.num('seconds', 10, 0.5, 3600),
      warmupSeconds: f.num('warmup', 2, 0, 600),
      durability: f.choice<Durability>('durability', 'fsync', ['fsync', 'commit', 'none']),
      thinkMinMs: think[0],
      thinkMaxMs: think[1],
    },
    backlog: {
      agents,
      topics,
      roundSize: 100,
      rounds: f.int('rounds', 150, 1, 100_000),
      warmupRounds: f.int('warmup-rounds', 30, 0, 100_000),
      bot: f.choice<BacklogBot>('bot', 'off', ['off', 'overflow']),
      durability: f.choice<Durability>('durability', 'fsync', ['fsync', 'commit', 'none']),
    },
  };
}

export interface RoutingBenchResult {
  decisions?: DecisionsResult;
  sustained?: SustainedResult;
  backlog?: BacklogResult;
}

export async function runRoutingBench(o: RoutingBenchOptions, runNo = 0): Promise<RoutingBenchResult> {
  const out: RoutingBenchResult = {};
  if (o.parts.pure) {
    const d = o.decisions;
    console.log(`\n[part 1: decisions, pure] ${fmtInt(d.agents)} agents, ${d.topics} topics, ${fmtInt(d.queued)} queued; ${fmtInt(d.samples)} cycles after ${fmtInt(d.warmupSamples)} warm-up`);
    out.decisions = await runDecisions({ ...d, seed: 0 }, runNo);
    printDecisions(out.decisions);
  }
  if (o.parts.engine) {
    const s = o.sustained;
    console.log(`\n[part 2: sustained, engine, durability ${s.durability}] ${fmtInt(s.agents)} agents; ${fmtInt(s.rate)} requests/s for ${s.warmupSeconds} s warm-up + ${s.seconds} s; think ${s.thinkMinMs}–${s.thinkMaxMs} ms`);
    out.sustained = await runSustained(s, runNo);
    printSustained(out.sustained);
  }
  if (o.parts.backlog) {
    const b = o.backlog;
    console.log(`\n[backlog, engine, durability ${b.durability}, bot ${b.bot}] ${fmtInt(b.agents)} agents, ${b.topics} topics; ${fmtInt(b.roundSize)} requests a round, ${fmtInt(b.rounds)} rounds after ${fmtInt(b.warmupRounds)} warm-up`);
    out.backlog = await runBacklog(b, runNo);
    printBacklog(out.backlog);
  }
  return out;
}

function printDecisions(r: DecisionsResult): void {
  console.log(`  state   : ${fmtInt(r.agentsOnline)} agents online (${fmtInt(r.freeAgents)} in the free pool), ${fmtInt(r.queuedBefore)} queued before and ${fmtInt(r.queuedAfter)} after; setup ${fmtInt(r.setupEvents)} events in ${fmtMs(r.setupMs)} ms`);
  const rows = [['decision', 'n', 'p50 ms', 'p99 ms', 'p999 ms', 'max ms', 'writes', 'KB']];
  for (const k of r.kinds) {
    rows.push([DECISION_KINDS[k.kind], fmtInt(k.count), fmtMs(k.p50Ms), fmtMs(k.p99Ms), fmtMs(k.p999Ms), fmtMs(k.maxMs), k.writesPerEvent.toFixed(1), (k.bytesPerEvent / 1000).toFixed(1)]);
  }
  printTable(rows);
  const rt = r.runtime;
  // The cycles run without yielding: only the GC figures of the runtime sample mean anything.
  console.log(`  GC      : ${rt.gcCount}× over the measured cycles, ${fmtMs(rt.gcTotalMs)} ms in all, longest ${fmtMs(rt.gcMaxPauseMs)} ms (non-scavenge ${rt.majorGcCount}×, longest ${fmtMs(rt.majorGcMaxMs)} ms); heap ${rt.heapUsedMiB.toFixed(0)} MiB`);
  const misses = Object.entries(r.misses);
  if (misses.length > 0) console.log(`  misses  : ${misses.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  const worst = Math.max(...r.kinds.map((k) => k.p99Ms));
  console.log(`  target  : p99 ≤ 1 ms for every decision — worst p99 ${fmtMs(worst)} ms: ${worst <= 1 ? 'met' : 'MISSED'}`);
}

function printSustained(r: SustainedResult): void {
  const rejected = Object.entries(r.rejected);
  console.log(`  setup   : agents online in ${fmtMs(r.setupMs)} ms`);
  console.log(`  achieved: ${fmtInt(r.offersPerS)} offers/s pushed (target ${fmtInt(r.targetRequestsPerS)} requests/s), ${fmtInt(r.eventsPerS)} events/s answered; longest send delay ${fmtMs(r.maxSendLagMs)} ms; drained ${fmtMs(r.drainMs)} ms after the schedule, ${fmtInt(r.unoffered)} without an offer`);
  console.log(`  request→offer   ${fmtLatency(r.requestToOffer)}`);
  console.log(`  accept→assigned ${fmtLatency(r.acceptToAssigned)}`);
  console.log(`  rejected: ${rejected.length ? rejected.map(([k, n]) => `${k} ×${n}`).join(', ') : 'none'}; offers revoked: ${r.revoked}`);
  console.log(`  batches : ${fmtInt(r.batches.batches)} of ${r.batches.meanEvents.toFixed(1)} events; apply mean ${fmtMs(r.batches.meanApplyMs)} / max ${fmtMs(r.batches.maxApplyMs)} ms, commit mean ${fmtMs(r.batches.meanCommitMs)} / max ${fmtMs(r.batches.maxCommitMs)} ms`);
  console.log(`  runtime : ${fmtRuntime(r.runtime)}`);
  const kept = r.offersPerS >= 0.98 * r.targetRequestsPerS && r.unoffered === 0;
  console.log(`  target  : sustain ${fmtInt(r.targetRequestsPerS)} new requests/s with offers pushed: ${kept ? 'met' : 'MISSED'}`);
}

function printBacklog(r: BacklogResult): void {
  const rejected = Object.entries(r.rejected);
  console.log(`  cost    : ${r.cpuUsPerRequest.toFixed(0)} µs CPU per request over ${fmtInt(r.requests)} requests, ${fmtInt(r.requestsPerS)} requests/s`);
  console.log(`  desks   : ${fmtInt(r.completed)} completed, ${fmtInt(r.queuedAtEnd)} queued at the end; ${fmtInt(r.botMessages)} bot messages`);
  console.log(`  rejected: ${rejected.length ? rejected.map(([k, n]) => `${k} ×${n}`).join(', ') : 'none'}`);
}

/** The figures compared across --runs. */
export function routingHeadline(r: RoutingBenchResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of r.decisions?.kinds ?? []) {
    out[`${k.kind}.p50Ms`] = k.p50Ms;
    out[`${k.kind}.p99Ms`] = k.p99Ms;
    out[`${k.kind}.p999Ms`] = k.p999Ms;
    out[`${k.kind}.maxMs`] = k.maxMs;
    out[`${k.kind}.writes`] = k.writesPerEvent;
    out[`${k.kind}.bytes`] = k.bytesPerEvent;
  }
  if (r.decisions) {
    out['pure.gcCount'] = r.decisions.runtime.gcCount;
    out['pure.gcMaxMs'] = r.decisions.runtime.gcMaxPauseMs;
  }
  const s = r.sustained;
  if (s) {
    out['sustained.offersPerS'] = s.offersPerS;
    out['sustained.eventsPerS'] = s.eventsPerS;
    out['sustained.requestToOfferP50Ms'] = s.requestToOffer.p50Ms;
    out['sustained.requestToOfferP99Ms'] = s.requestToOffer.p99Ms;
    out['sustained.requestToOfferMaxMs'] = s.requestToOffer.maxMs;
    out['sustained.acceptToAssignedP50Ms'] = s.acceptToAssigned.p50Ms;
    out['sustained.acceptToAssignedP99Ms'] = s.acceptToAssigned.p99Ms;
    out['sustained.mainThreadBusyPct'] = s.runtime.eventLoopUtilization * 100;
    out['sustained.cpuPctOfCore'] = s.runtime.cpuCores * 100;
  }
  if (r.backlog) {
    out['backlog.cpuUsPerRequest'] = r.backlog.cpuUsPerRequest;
    out['backlog.requestsPerS'] = r.backlog.requestsPerS;
  }
  return out;
}
