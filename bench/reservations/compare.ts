// `omni bench reservations`: stock reservations (reserve → commit/release) on omnistream and on
// the same logic in PostgreSQL and in Redis, each a real server started by the bench on
// loopback with a temp data dir. Same workload, same client process and driver, one operation
// per round trip everywhere, and results only compared within one durability tier.

import { MACHINE_COLUMNS, machineCells, machineLine, measureConfig, serverUsPerOp, type MeasuredConfig, type SkippedTarget } from '../shared/comparison.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { DURABILITY_FLAGS, omniRatios, readDurabilityPlan, tierSchedule, type Tier } from '../shared/tiers.ts';
import { driveReservations, type DriveResult } from './driver.ts';
import { omnistreamTarget } from './omnistream.ts';
import { postgresTarget } from './postgres.ts';
import { redisTarget } from './redis.ts';
import type { TargetKind } from './target.ts';
import { fmtInt, fmtMs, printTable, type Spread } from '../shared/report.ts';

const KINDS: readonly TargetKind[] = [omnistreamTarget, postgresTarget, redisTarget];

export const RESERVATIONS_FLAGS: FlagSpec[] = [
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured time per target and durability (default 8)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'warm-up before each measurement, not counted (default 2)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs, Zipf(s=1) popularity (default 1000; 10 shows hot-row contention)' },
  { name: 'locations', kind: 'value', valueName: 'L', help: 'locations per SKU, picked uniformly (default 1)' },
  { name: 'concurrency', kind: 'value', valueName: 'C', help: 'clients, each a closed loop on its own connection (default 64)' },
  { name: 'stock', kind: 'value', valueName: 'N', help: 'starting units per (sku, location) row (default 1000000: never runs out; small values show rejections)' },
  { name: 'seed', kind: 'value', valueName: 'N', help: 'workload seed (default 1)' },
  ...DURABILITY_FLAGS,
];

export const RESERVATIONS_HELP = `Usage: omni bench reservations [flags]

Stock reservations on omnistream, PostgreSQL and Redis. Each is started by the bench on
127.0.0.1 with a temp data dir (stopped and removed afterwards): "omni serve", the PostgreSQL
server from ${process.env.OMNI_BENCH_PG_BIN ?? '/usr/lib/postgresql/15/bin'}, redis-server. C clients, each a closed loop on
its own connection: reserve(id, sku, qty 1..3), then commit (70%) or release (30%), each one
round trip — one POST /v1/events with one event; one SQL statement (CTE) per transaction; one
EVALSHA of a Lua script. Reports operations/s (reserves + commits + releases), reservations
ended/s, latency per operation, rejections, server and client CPU, and checks every row's
final state against the acknowledged operations (no oversell, nothing lost). Ratios are
omnistream ÷ peer at the same durability tier.

Flags:
${describeFlags(RESERVATIONS_FLAGS)}`;

export interface ReservationsOptions {
  seconds: number;
  warmupSeconds: number;
  skus: number;
  locations: number;
  concurrency: number;
  stock: number;
  seed: number;
  /** Per target kind, the durability choices to run (empty = not run). */
  plan: Record<string, string[]>;
}

export function readReservationsOptions(argv: readonly string[]): ReservationsOptions | 'help' {
  const f = readFlags(argv, RESERVATIONS_FLAGS);
  if (f.help) return 'help';
  const plan = readDurabilityPlan(f, KINDS);
  return {
    seconds: f.num('seconds', 8, 0.5, 3600),
    warmupSeconds: f.num('warmup', 2, 0, 600),
    skus: f.int('skus', 1000, 1, 1_000_000),
    locations: f.int('locations', 1, 1, 100),
    concurrency: f.int('concurrency', 64, 1, 1000),
    stock: f.int('stock', 1_000_000, 1, 1_000_000_000),
    seed: f.int('seed', 1, 0, 2 ** 31),
    plan,
  };
}

export interface ConfigResult extends DriveResult, MeasuredConfig {}

export interface ReservationsResult {
  options: ReservationsOptions;
  configs: ConfigResult[];
  skipped: SkippedTarget[];
}

export async function runReservationsBench(o: ReservationsOptions, runNo = 0): Promise<ReservationsResult> {
  const configs: ConfigResult[] = [];
  const skipped: ReservationsResult['skipped'] = [];
  const shape = { skus: o.skus, locations: o.locations, seed: o.seed };
  console.log(`\nworkload: ${fmtInt(o.skus)} SKUs (Zipf s=1) × ${o.locations} location(s), ${fmtInt(o.stock)} units each; ${o.concurrency} clients; ${o.warmupSeconds} s warm-up + ${o.seconds} s measured per target`);
  for (const step of tierSchedule(KINDS, o.plan)) {
    const c = await measureConfig(step, `${step.kind.name} ${step.durability}`, skipped, () => step.kind.start(step.durability, { concurrency: o.concurrency, runNo }), async (target) => {
      await target.seed(shape, o.stock);
      return driveReservations(target, { shape, stock: o.stock, concurrency: o.concurrency, warmupSeconds: o.warmupSeconds, seconds: o.seconds, idPrefix: `r${runNo}` });
    });
    if (!c) continue;
    configs.push(c);
    console.log(`  ops       : ${fmtInt(c.opsPerS)} ops/s, ${fmtInt(c.reservationsPerS)} reservations ended/s (${fmtInt(c.commits)} commits, ${fmtInt(c.releases)} releases, ${fmtInt(c.rejections)} rejected reserves in ${o.seconds} s)`);
    console.log(`  latency   : every op p50 ${fmtMs(c.latency.p50)} ms, p99 ${fmtMs(c.latency.p99)} ms, max ${fmtMs(c.latency.max)} ms; reserve p50 ${fmtMs(c.reserveLatency.p50)} / p99 ${fmtMs(c.reserveLatency.p99)} ms; commit/release p50 ${fmtMs(c.endLatency.p50)} / p99 ${fmtMs(c.endLatency.p99)} ms`);
    console.log(`  machine   : ${machineLine(c)}`);
    console.log(`  check     : ${c.check.ok ? 'OK' : 'FAILED'} — ${fmtInt(c.check.rowsChecked)} rows, ${fmtInt(c.totals.reserves)} reservations over the run${c.check.ok ? '' : `; ${c.check.problemCount} problems:\n    ${c.check.problems.join('\n    ')}`}`);
  }
  printResultTable(configs);
  const failed = configs.filter((c) => !c.check.ok);
  if (failed.length > 0) throw new Error(`end-state check failed for ${failed.map((c) => `${c.target} ${c.durability}`).join(', ')}: the figures are void`);
  return { options: o, configs, skipped };
}

function printResultTable(configs: ConfigResult[]): void {
  if (configs.length === 0) return;
  console.log('');
  printTable([
    ['target', 'durability', 'tier', 'ops/s', 'reservations/s', 'p50 ms', 'p99 ms', 'rejected', ...MACHINE_COLUMNS],
    ...configs.map((c) => [
      c.target, c.durability, c.tier, fmtInt(c.opsPerS), fmtInt(c.reservationsPerS), fmtMs(c.latency.p50), fmtMs(c.latency.p99), fmtInt(c.rejections), ...machineCells(c),
    ]),
  ]);
  const ratios = tierRatios(Object.fromEntries(configs.map((c) => [`${c.target}.${c.durability}.opsPerS`, c.opsPerS])));
  if (Object.keys(ratios).length > 0) console.log('  ops/s, omnistream ÷ peer (same tier): ' + Object.entries(ratios).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(', '));
}

const tierOf = (target: string, durability: string): Tier | undefined => KINDS.find((k) => k.name === target)?.durabilities[durability];

/** omnistream ÷ each peer, ops/s, for every pair at the same tier, from keys `<target>.<durability>.opsPerS`. */
function tierRatios(opsPerS: Record<string, number>): Record<string, number> {
  return omniRatios(
    Object.entries(opsPerS).flatMap(([key, value]) => {
      const m = /^(\w+)\.(\w+)\.opsPerS$/.exec(key);
      return m ? [{ target: m[1], durability: m[2], tier: tierOf(m[1], m[2]), value }] : [];
    }),
  );
}

/**
 * Per run: each configuration's figures, and the omnistream ÷ peer ratios of that run as
 * percentages (`…ratioPct`). On a noisy machine the median of side-by-side ratios is steadier
 * than the ratio of medians taken minutes apart (both are printed).
 */
export function reservationsHeadline(r: ReservationsResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of r.configs) {
    const k = `${c.target}.${c.durability}`;
    out[`${k}.opsPerS`] = c.opsPerS;
    out[`${k}.reservationsPerS`] = c.reservationsPerS;
    out[`${k}.p50Ms`] = c.latency.p50;
    out[`${k}.p99Ms`] = c.latency.p99;
    out[`${k}.rejections`] = c.rejections;
    if (c.serverCpuCores !== undefined) out[`${k}.serverCpuPct`] = c.serverCpuCores * 100;
    // CPU per operation moves less with the machine's load than the rates do.
    const us = serverUsPerOp(c);
    if (us !== undefined) out[`${k}.serverCpuUsPerOp`] = us;
    out[`${k}.clientCpuPct`] = c.clientCpuCores * 100;
    out[`${k}.fdatasyncUs`] = c.fdatasyncMs * 1000;
  }
  const ratios = tierRatios(Object.fromEntries(r.configs.map((c) => [`${c.target}.${c.durability}.opsPerS`, c.opsPerS])));
  for (const [k, v] of Object.entries(ratios)) out[`${k}.ratioPct`] = v * 100;
  return out;
}

/** Ratios of the medians over runs (bench/shared/runner.ts prints them). */
export function reservationsRatios(spreads: Record<string, Spread>): Record<string, number> {
  return tierRatios(Object.fromEntries(Object.entries(spreads).map(([k, s]) => [k, s.median])));
}
