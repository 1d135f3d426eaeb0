// `omni bench reservations`: stock reservations (reserve → commit/release) on omnistream and on
// the same logic in PostgreSQL and in Redis, each a real server started by the bench on
// loopback with a temp data dir. Same workload, same client process and driver, one operation
// per round trip everywhere, and results only compared within one durability tier.

import { loadavg } from 'node:os';
import { describeFlags, readFlags, UsageError, type FlagSpec } from '../shared/flags.ts';
import { fdatasyncMs } from './disk-probe.ts';
import { driveReservations, type DriveResult } from './driver.ts';
import { omnistreamTarget } from './omnistream.ts';
import { postgresTarget } from './postgres.ts';
import { redisTarget } from './redis.ts';
import type { TargetKind, Tier } from './target.ts';
import { fmtInt, fmtMs, printTable, type Spread } from '../shared/report.ts';

const KINDS: readonly TargetKind[] = [omnistreamTarget, postgresTarget, redisTarget];
const TIERS: readonly Tier[] = ['durable', 'relaxed', 'unsynced'];

export const RESERVATIONS_FLAGS: FlagSpec[] = [
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured time per target and durability (default 8)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'warm-up before each measurement, not counted (default 2)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs, Zipf(s=1) popularity (default 1000; 10 shows hot-row contention)' },
  { name: 'locations', kind: 'value', valueName: 'L', help: 'locations per SKU, picked uniformly (default 1)' },
  { name: 'concurrency', kind: 'value', valueName: 'C', help: 'clients, each a closed loop on its own connection (default 64)' },
  { name: 'stock', kind: 'value', valueName: 'N', help: 'starting units per (sku, location) row (default 1000000: never runs out; small values show rejections)' },
  { name: 'seed', kind: 'value', valueName: 'N', help: 'workload seed (default 1)' },
  { name: 'targets', kind: 'value', valueName: 'LIST', help: 'comma-separated subset of omnistream,postgres,redis (default all)' },
  { name: 'omni-durability', kind: 'value', valueName: 'LIST', help: 'omni serve --durability: fsync (durable), commit (relaxed), none (unsynced); default fsync,commit' },
  { name: 'pg-durability', kind: 'value', valueName: 'LIST', help: 'on = synchronous_commit=on (durable), off = synchronous_commit=off (relaxed), nofsync = fsync=off (unsynced); default on,off' },
  { name: 'redis-durability', kind: 'value', valueName: 'LIST', help: 'appendfsync always (durable), everysec (relaxed), no (unsynced); default always,everysec' },
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

function list(raw: string | undefined, fallback: string[], allowed: readonly string[], flag: string): string[] {
  if (raw === undefined) return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item)) throw new UsageError(`--${flag}: '${item}' is not one of ${allowed.join(', ')}`);
  return [...new Set(items)];
}

export function readReservationsOptions(argv: readonly string[]): ReservationsOptions | 'help' {
  const f = readFlags(argv, RESERVATIONS_FLAGS);
  if (f.help) return 'help';
  const targets = list(f.string('targets'), KINDS.map((k) => k.name), KINDS.map((k) => k.name), 'targets');
  const flagOf: Record<string, [string, string[]]> = { omnistream: ['omni-durability', ['fsync', 'commit']], postgres: ['pg-durability', ['on', 'off']], redis: ['redis-durability', ['always', 'everysec']] };
  const plan: Record<string, string[]> = {};
  for (const kind of KINDS) {
    const [flag, fallback] = flagOf[kind.name];
    const chosen = list(f.string(flag), fallback, Object.keys(kind.durabilities), flag);
    plan[kind.name] = targets.includes(kind.name) ? chosen : [];
  }
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

export interface ConfigResult extends DriveResult {
  target: string;
  durability: string;
  tier: Tier;
  settings: string;
  connections: string;
  loadAverage: [start: number, end: number];
  /** Median 4 KiB write + fdatasync on the temp dir's disk, just before this measurement. */
  fdatasyncMs: number;
}

export interface ReservationsResult {
  options: ReservationsOptions;
  configs: ConfigResult[];
  skipped: Array<{ target: string; reason: string }>;
}

/** Cores as a percentage of one core. */
const pct = (cores: number | undefined) => (cores === undefined ? 'n/a' : `${(cores * 100).toFixed(0)}%`);

/** Durable first, then relaxed: within a tier the targets run back to back, so they see similar noise. */
function schedule(o: ReservationsOptions): Array<{ kind: TargetKind; durability: string; tier: Tier }> {
  const out: Array<{ kind: TargetKind; durability: string; tier: Tier }> = [];
  for (const tier of TIERS) {
    for (const kind of KINDS) for (const d of o.plan[kind.name]) if (kind.durabilities[d] === tier) out.push({ kind, durability: d, tier });
  }
  return out;
}

export async function runReservationsBench(o: ReservationsOptions, runNo = 0): Promise<ReservationsResult> {
  const configs: ConfigResult[] = [];
  const skipped: ReservationsResult['skipped'] = [];
  const shape = { skus: o.skus, locations: o.locations, seed: o.seed };
  console.log(`\nworkload: ${fmtInt(o.skus)} SKUs (Zipf s=1) × ${o.locations} location(s), ${fmtInt(o.stock)} units each; ${o.concurrency} clients; ${o.warmupSeconds} s warm-up + ${o.seconds} s measured per target`);
  for (const { kind, durability, tier } of schedule(o)) {
    const why = kind.unavailable();
    if (why) {
      if (!skipped.some((s) => s.target === kind.name)) console.log(`\n[${kind.name}] SKIPPED: ${why}`);
      skipped.push({ target: kind.name, reason: why });
      continue;
    }
    const load0 = loadavg()[0];
    const fsyncMs = fdatasyncMs();
    const target = await kind.start(durability, { concurrency: o.concurrency, runNo });
    let r: DriveResult;
    try {
      console.log(`\n[${kind.name} ${durability}] ${tier}: ${target.settings}; ${target.connections}`);
      await target.seed(shape, o.stock);
      r = await driveReservations(target, { shape, stock: o.stock, concurrency: o.concurrency, warmupSeconds: o.warmupSeconds, seconds: o.seconds, idPrefix: `r${runNo}` });
    } finally {
      await target.stop();
    }
    const c: ConfigResult = { ...r, target: kind.name, durability, tier, settings: target.settings, connections: target.connections, loadAverage: [load0, loadavg()[0]], fdatasyncMs: fsyncMs };
    configs.push(c);
    console.log(`  ops       : ${fmtInt(r.opsPerS)} ops/s, ${fmtInt(r.reservationsPerS)} reservations ended/s (${fmtInt(r.commits)} commits, ${fmtInt(r.releases)} releases, ${fmtInt(r.rejections)} rejected reserves in ${o.seconds} s)`);
    console.log(`  latency   : every op p50 ${fmtMs(r.latency.p50)} ms, p99 ${fmtMs(r.latency.p99)} ms, max ${fmtMs(r.latency.max)} ms; reserve p50 ${fmtMs(r.reserveLatency.p50)} / p99 ${fmtMs(r.reserveLatency.p99)} ms; commit/release p50 ${fmtMs(r.endLatency.p50)} / p99 ${fmtMs(r.endLatency.p99)} ms`);
    console.log(`  machine   : server CPU ${pct(r.serverCpuCores)} of a core, client ${pct(r.clientCpuCores)}; load average ${load0.toFixed(2)} → ${c.loadAverage[1].toFixed(2)}; fdatasync ${fmtMs(fsyncMs)} ms before`);
    console.log(`  check     : ${r.check.ok ? 'OK' : 'FAILED'} — ${fmtInt(r.check.rowsChecked)} rows, ${fmtInt(r.totals.reserves)} reservations over the run${r.check.ok ? '' : `; ${r.check.problemCount} problems:\n    ${r.check.problems.join('\n    ')}`}`);
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
    ['target', 'durability', 'tier', 'ops/s', 'reservations/s', 'p50 ms', 'p99 ms', 'rejected', 'check', 'server CPU', 'server µs/op', 'client CPU', 'load', 'fdatasync ms'],
    ...configs.map((c) => [
      c.target, c.durability, c.tier, fmtInt(c.opsPerS), fmtInt(c.reservationsPerS), fmtMs(c.latency.p50), fmtMs(c.latency.p99), fmtInt(c.rejections),
      c.check.ok ? 'OK' : 'FAILED', pct(c.serverCpuCores), c.serverCpuCores === undefined ? 'n/a' : fmtInt((c.serverCpuCores * 1e6) / c.opsPerS), pct(c.clientCpuCores), c.loadAverage[0].toFixed(1), fmtMs(c.fdatasyncMs),
    ]),
  ]);
  const ratios = tierRatios(Object.fromEntries(configs.map((c) => [`${c.target}.${c.durability}.opsPerS`, c.opsPerS])));
  if (Object.keys(ratios).length > 0) console.log('  ops/s, omnistream ÷ peer (same tier): ' + Object.entries(ratios).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(', '));
}

const tierOf = (target: string, durability: string): Tier | undefined => KINDS.find((k) => k.name === target)?.durabilities[durability];

/** omnistream ÷ each peer, ops/s, for every pair at the same tier; keys `omnistream.fsync/postgres.on`. */
function tierRatios(opsPerS: Record<string, number>): Record<string, number> {
  const configs = Object.entries(opsPerS).flatMap(([key, v]) => {
    const m = /^(\w+)\.(\w+)\.opsPerS$/.exec(key);
    return m ? [{ target: m[1], durability: m[2], tier: tierOf(m[1], m[2]), v }] : [];
  });
  const out: Record<string, number> = {};
  for (const omni of configs.filter((c) => c.target === 'omnistream')) {
    for (const peer of configs.filter((c) => c.target !== 'omnistream' && c.tier === omni.tier)) {
      out[`omnistream.${omni.durability}/${peer.target}.${peer.durability}`] = omni.v / peer.v;
    }
  }
  return out;
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
    if (c.serverCpuCores !== undefined && c.opsPerS > 0) out[`${k}.serverCpuUsPerOp`] = (c.serverCpuCores * 1e6) / c.opsPerS;
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
