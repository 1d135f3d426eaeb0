// What every benchmark prints and records: the machine it ran on, the exact command, and its
// figures (one run, or the median with min and max over --runs K).

import { mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { dirname, join } from 'node:path';
import type { LatencySummary } from '../../loadgen/mod.ts';
import { REPO_ROOT } from './server-process.ts';

// The histograms are the loadgen's (the bench drives the same workloads); re-exported so the
// benchmarks find all their reporting in one place.
export { latencyHistogram, summariseLatency, type Histogram, type LatencySummary } from '../../loadgen/mod.ts';

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  totalMemoryGiB: number;
  os: string;
  node: string;
  lmdb: string;
  uWebSockets: string;
  msgpackr: string;
  tmpFilesystem: string;
  /** 1, 5 and 15-minute load averages when the benchmark started (other work on the machine). */
  loadAverage: number[];
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { name?: string; version?: string };
    return pkg.name && pkg.name !== name ? `${pkg.version} (${pkg.name})` : String(pkg.version);
  } catch {
    return 'unknown';
  }
}

// statfs f_type magic numbers for the filesystems a data dir is likely to live on.
const FS_TYPES: Record<number, string> = {
  0xef53: 'ext4',
  0x01021994: 'tmpfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
  0x6a656a63: 'fakeowner',
  0x65735546: 'fuse',
};

/** The filesystem a directory is on: fsync on tmpfs is free, which would void the durability figure. */
export function filesystemOf(dir: string): string {
  try {
    const t = statfsSync(dir).type;
    return FS_TYPES[t] ?? `0x${t.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(dataRoot: string): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cpuCount: cpu.length,
    totalMemoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    lmdb: packageVersion('lmdb'),
    uWebSockets: packageVersion('uWebSockets.js'),
    msgpackr: packageVersion('msgpackr'),
    tmpFilesystem: `${dataRoot} on ${filesystemOf(dataRoot)}`,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The command as typed, close enough to paste back: node flags, entry script, arguments. */
export function exactCommand(): string {
  const script = process.argv[1]?.replace(`${process.cwd()}/`, '') ?? '';
  return ['node', ...process.execArgv, script, ...process.argv.slice(2)].map(shellQuoted).join(' ');
}

/** An argument as a shell would need it typed, so the printed command can be pasted back. */
function shellQuoted(arg: string): string {
  return /^[\w@%+=:,./-]*$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function printHeader(title: string, machine: MachineInfo, command: string): void {
  console.log(`\n=== ${title} ===`);
  console.log(`machine : ${machine.cpuModel} × ${machine.cpuCount}, ${machine.totalMemoryGiB} GiB RAM, ${machine.os}`);
  console.log(`runtime : Node ${machine.node}, lmdb ${machine.lmdb}, uWebSockets.js ${machine.uWebSockets}, msgpackr ${machine.msgpackr}`);
  console.log(`data dir: ${machine.tmpFilesystem}`);
  console.log(`load    : ${machine.loadAverage.join(' / ')} (1 / 5 / 15 min) before starting${machine.loadAverage[0] > machine.cpuCount / 2 ? ' — the machine is busy: expect noisy figures' : ''}`);
  console.log(`command : ${command}`);
}

// ---- numbers ---------------------------------------------------------------------------

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values };
}

/** Headline figures of K runs (each a flat name → number record) → median, min, max per name. */
export function summariseRuns(runs: Array<Record<string, number>>): Record<string, Spread> {
  const out: Record<string, Spread> = {};
  for (const name of Object.keys(runs[0] ?? {})) out[name] = spread(runs.map((r) => r[name]).filter((v) => v !== undefined));
  return out;
}

export function printSpreads(spreads: Record<string, Spread>): void {
  const names = Object.keys(spreads);
  if (names.length === 0) return;
  const k = spreads[names[0]].runs.length;
  const width = Math.max(...names.map((n) => n.length));
  console.log(`\nover ${k} runs: median [min … max]`);
  for (const name of names) {
    const s = spreads[name];
    // Small figures (KiB per connection, ratios) would round to nothing as integers.
    const f = name.endsWith('Ms') ? fmtMs : Math.abs(s.median) < 100 ? (v: number) => v.toFixed(2) : fmtInt;
    console.log(`  ${name.padEnd(width)}  ${f(s.median).padStart(12)}  [${f(s.min)} … ${f(s.max)}]`);
  }
}

/** Aligned plain-text table; the first row is the header. */
export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  rows.forEach((r, i) => {
    console.log('  ' + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

// ---- latency figures -------------------------------------------------------------------

export function fmtLatency(s: LatencySummary): string {
  return `p50 ${fmtMs(s.p50Ms)} ms, p99 ${fmtMs(s.p99Ms)} ms, p999 ${fmtMs(s.p999Ms)} ms, max ${fmtMs(s.maxMs)} ms (n=${fmtInt(s.count)})`;
}

// ---- results file ------------------------------------------------------------------------

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
  console.log(`\nresults written to ${path}`);
}
