// `omni bench loyalty`: loyalty point redemptions on omnistream (`loyalty.redeemed` over HTTP)
// and the same check-and-decrement in PostgreSQL and in Redis, each a real server started by the
// bench on loopback with a temp data dir. Same workloads (contended: few customers; spread: many),
// same client process and driver, one redemption per round trip everywhere, and figures only
// compared within one durability tier.

import { MACHINE_COLUMNS, machineCells, machineLine, measureConfig, serverUsPerOp, type MeasuredConfig, type SkippedTarget } from '../shared/comparison.ts';
import { describeFlags, readFlags, rotated, UsageError, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtMs, printTable, type Spread } from '../shared/report.ts';
import { DURABILITY_FLAGS, omniRatios, readDurabilityPlan, tierSchedule, type Tier } from '../shared/tiers.ts';
import { driveRedemptions, type LoyaltyDriveResult } from './driver.ts';
import { omnistreamLoyalty } from './omnistream.ts';
import { postgresLoyalty } from './postgres.ts';
import { redisLoyalty } from './redis.ts';
import type { LoyaltyTargetKind } from './target.ts';
import { customersOf } from './workload.ts';

const KINDS: readonly LoyaltyTargetKind[] = [omnistreamLoyalty, postgresLoyalty, redisLoyalty];

export type WorkloadName = 'contended' | 'spread';
const WORKLOADS: readonly WorkloadName[] = ['contended', 'spread'];

export const LOYALTY_FLAGS: FlagSpec[] = [
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured time per workload, target and durability (default 8)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'warm-up before each measurement, not counted (default 2)' },
  { name: 'workloads', kind: 'value', valueName: 'LIST', help: 'comma-separated subset of contended,spread (default both)' },
  { name: 'contended', kind: 'value', valueName: 'N', help: 'customers in the contended workload, every client redeeming from them (default 4)' },
  { name: 'spread', kind: 'value', valueName: 'N', help: 'customers in the spread workload (default 10000)' },
  { name: 'concurrency', kind: 'value', valueName: 'C', help: 'clients, each a closed loop on its own connection (default 64)' },
  { name: 'max-points', kind: 'value', valueName: 'P', help: 'each redemption asks for 1..P points, uniformly (default 10)' },
  { name: 'balance', kind: 'value', valueName: 'N', help: "every customer's starting balance (default 100000000: never runs out; small values show refusals)" },
  { name: 'seed', kind: 'value', valueName: 'N', help: 'workload seed (default 1)' },
  ...DURABILITY_FLAGS,
];

export const LOYALTY_HELP = `Usage: omni bench loyalty [flags]

Loyalty point redemptions on omnistream, PostgreSQL and Redis, each started by the bench on
127.0.0.1 with a temp data dir (stopped and removed afterwards): "omni serve", the PostgreSQL
server from ${process.env.OMNI_BENCH_PG_BIN ?? '/usr/lib/postgresql/15/bin'}, redis-server. C clients, each a closed loop on
its own connection, redeem 1..P points from a customer picked uniformly — one POST /v1/events
with one loyalty.redeemed event; one prepared "UPDATE loyalty SET balance = balance - $1 WHERE
customer = $2 AND balance >= $1"; one EVALSHA of a Lua script that checks and decrements. Two
workloads: contended (few customers: every client waits on the same balances) and spread (many).
Reports redemptions/s, latency (p50, p99), refusals, server and client CPU, and checks every
final balance against the acknowledged redemptions (none overdrawn, nothing lost, no refusal
while the points were there). Ratios are omnistream ÷ peer at the same durability tier.

Flags:
${describeFlags(LOYALTY_FLAGS)}`;

export interface LoyaltyOptions {
  seconds: number;
  warmupSeconds: number;
  workloads: WorkloadName[];
  customers: Record<WorkloadName, number>;
  concurrency: number;
  maxPoints: number;
  balance: number;
  seed: number;
  /** Per target kind, the durability choices to run (empty = not run). */
  plan: Record<string, string[]>;
}

export function readLoyaltyOptions(argv: readonly string[]): LoyaltyOptions | 'help' {
  const f = readFlags(argv, LOYALTY_FLAGS);
  if (f.help) return 'help';
  const workloads = (f.string('workloads') ?? WORKLOADS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of workloads) if (!WORKLOADS.includes(w as WorkloadName)) throw new UsageError(`--workloads: '${w}' is not one of ${WORKLOADS.join(', ')}`);
  return {
    seconds: f.num('seconds', 8, 0.5, 3600),
    warmupSeconds: f.num('warmup', 2, 0, 600),
    workloads: [...new Set(workloads as WorkloadName[])],
    customers: { contended: f.int('contended', 4, 1, 1_000_000), spread: f.int('spread', 10_000, 1, 1_000_000) },
    concurrency: f.int('concurrency', 64, 1, 1000),
    maxPoints: f.int('max-points', 10, 1, 1_000_000),
    balance: f.int('balance', 100_000_000, 1, 1_000_000_000),
    seed: f.int('seed', 1, 0, 2 ** 31),
    plan: readDurabilityPlan(f, KINDS),
  };
}

export interface LoyaltyConfigResult extends LoyaltyDriveResult, MeasuredConfig {
  workload: WorkloadName;
  customers: number;
}

export interface LoyaltyResult {
  options: LoyaltyOptions;
  configs: LoyaltyConfigResult[];
  skipped: SkippedTarget[];
}

export async function runLoyaltyBench(o: LoyaltyOptions, runNo = 0): Promise<LoyaltyResult> {
  const configs: LoyaltyConfigResult[] = [];
  const skipped: LoyaltyResult['skipped'] = [];
  for (const workload of o.workloads) {
    const shape = { customers: o.customers[workload], maxPoints: o.maxPoints, seed: o.seed };
    console.log(`\nworkload ${workload}: ${fmtInt(shape.customers)} customers of ${fmtInt(o.balance)} points each, redemptions of 1..${o.maxPoints}; ${o.concurrency} clients; ${o.warmupSeconds} s warm-up + ${o.seconds} s measured per target`);
    // Each run starts with another target, so none always runs first after a server start.
    for (const step of tierSchedule(rotated(KINDS, runNo), o.plan)) {
      const { kind, durability } = step;
      const r = await measureConfig(step, `${workload} · ${kind.name} ${durability}`, skipped, () => kind.start(durability, { concurrency: o.concurrency }), async (target) => {
        await target.seed(customersOf(shape), o.balance);
        return driveRedemptions(target, { shape, startingBalance: o.balance, concurrency: o.concurrency, warmupSeconds: o.warmupSeconds, seconds: o.seconds, idPrefix: `r${runNo}` });
      });
      if (!r) continue;
      configs.push({ ...r, workload, customers: shape.customers });
      console.log(`  redemptions: ${fmtInt(r.opsPerS)}/s (${fmtInt(r.ops)} in ${o.seconds} s, ${fmtInt(r.rejections)} refused); p50 ${fmtMs(r.latency.p50)} ms, p99 ${fmtMs(r.latency.p99)} ms, max ${fmtMs(r.latency.max)} ms`);
      console.log(`  machine    : ${machineLine(r)}`);
      console.log(`  check      : ${r.check.ok ? 'OK' : 'FAILED'} — ${fmtInt(r.check.customersChecked)} balances, ${fmtInt(r.totals.redemptions)} redemptions over the run${r.check.ok ? '' : `; ${r.check.problemCount} problems:\n    ${r.check.problems.join('\n    ')}`}`);
    }
  }
  printResultTable(configs);
  const failed = configs.filter((c) => !c.check.ok);
  if (failed.length > 0) throw new Error(`end-state check failed for ${failed.map((c) => `${c.workload} ${c.target} ${c.durability}`).join(', ')}: the figures are void`);
  return { options: o, configs, skipped };
}

function printResultTable(configs: LoyaltyConfigResult[]): void {
  if (configs.length === 0) return;
  console.log('');
  printTable([
    ['workload', 'target', 'durability', 'tier', 'redemptions/s', 'p50 ms', 'p99 ms', 'refused', ...MACHINE_COLUMNS],
    ...configs.map((c) => [
      c.workload, c.target, c.durability, c.tier, fmtInt(c.opsPerS), fmtMs(c.latency.p50), fmtMs(c.latency.p99), fmtInt(c.rejections), ...machineCells(c),
    ]),
  ]);
  const ratios = loyaltyRatios(Object.fromEntries(configs.map((c) => [`${c.workload}.${c.target}.${c.durability}.opsPerS`, c.opsPerS])));
  if (Object.keys(ratios).length > 0) console.log('  redemptions/s, omnistream ÷ peer (same tier): ' + Object.entries(ratios).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(', '));
}

const tierOf = (target: string, durability: string): Tier | undefined => KINDS.find((k) => k.name === target)?.durabilities[durability];

/** omnistream ÷ each peer per workload and tier, from keys `<workload>.<target>.<durability>.<figure>`; keys `contended.omnistream.fsync/postgres.on`. */
function loyaltyRatios(values: Record<string, number | Spread>, figure = 'opsPerS'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const workload of WORKLOADS) {
    const figures = Object.entries(values).flatMap(([key, v]) => {
      const m = /^(\w+)\.(\w+)\.(\w+)\.(\w+)$/.exec(key);
      if (!m || m[1] !== workload || m[4] !== figure) return [];
      return [{ target: m[2], durability: m[3], tier: tierOf(m[2], m[3]), value: typeof v === 'number' ? v : v.median }];
    });
    for (const [k, v] of Object.entries(omniRatios(figures))) out[`${workload}.${k}`] = v;
  }
  return out;
}

/** Per run: each configuration's figures and that run's omnistream ÷ peer ratios as percentages (`…ratioPct`). */
export function loyaltyHeadline(r: LoyaltyResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of r.configs) {
    const k = `${c.workload}.${c.target}.${c.durability}`;
    out[`${k}.opsPerS`] = c.opsPerS;
    out[`${k}.p50Ms`] = c.latency.p50;
    out[`${k}.p99Ms`] = c.latency.p99;
    out[`${k}.rejections`] = c.rejections;
    // CPU per redemption moves less with the machine's load than the rates do.
    const us = serverUsPerOp(c);
    if (us !== undefined) out[`${k}.serverCpuUsPerOp`] = us;
    out[`${k}.clientCpuPct`] = c.clientCpuCores * 100;
  }
  const opsPerS = Object.fromEntries(r.configs.map((c) => [`${c.workload}.${c.target}.${c.durability}.opsPerS`, c.opsPerS]));
  for (const [k, v] of Object.entries(loyaltyRatios(opsPerS))) out[`${k}.ratioPct`] = v * 100;
  return out;
}

/** Ratios of the medians over runs: redemptions/s, and p99 (omnistream's ÷ the peer's: below 1 is faster). */
export function loyaltyMedianRatios(spreads: Record<string, Spread>): Record<string, number> {
  const p99 = Object.entries(loyaltyRatios(spreads, 'p99Ms')).map(([k, v]) => [`${k}.p99`, v] as const);
  return { ...loyaltyRatios(spreads), ...Object.fromEntries(p99) };
}
