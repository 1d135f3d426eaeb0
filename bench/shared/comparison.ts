// One measured configuration of a comparison bench (reservations, loyalty): a target at one
// durability started on a fresh server, measured, stopped — with what the machine was doing
// around it (load average, the disk's fdatasync time), so a slow figure can be told from a busy
// machine. A target whose binaries are missing is skipped and said so once.

import { loadavg } from 'node:os';
import { fdatasyncMs } from './disk-probe.ts';
import { fmtInt, fmtMs } from './report.ts';
import type { WindowCpu } from './measure-window.ts';
import type { Tier } from './tiers.ts';

export interface MeasuredConfig {
  target: string;
  durability: string;
  tier: Tier;
  settings: string;
  connections: string;
  loadAverage: [start: number, end: number];
  /** Median 4 KiB write + fdatasync on the temp dir's disk, just before this measurement. */
  fdatasyncMs: number;
}

export interface SkippedTarget {
  target: string;
  reason: string;
}

export interface ConfigStep {
  kind: { readonly name: string; unavailable(): string | undefined };
  durability: string;
  tier: Tier;
}

interface StartedTarget {
  readonly settings: string;
  readonly connections: string;
  stop(): Promise<void>;
}

/**
 * Starts the step's target, measures it, stops it (also on failure). Undefined when the target
 * cannot run here (recorded in `skipped`). `label` heads the printed lines.
 */
export async function measureConfig<S extends StartedTarget, R>(step: ConfigStep, label: string, skipped: SkippedTarget[], start: () => Promise<S>, measure: (server: S) => Promise<R>): Promise<(R & MeasuredConfig) | undefined> {
  const { kind, durability, tier } = step;
  const why = kind.unavailable();
  if (why) {
    if (!skipped.some((s) => s.target === kind.name)) console.log(`\n[${kind.name}] SKIPPED: ${why}`);
    skipped.push({ target: kind.name, reason: why });
    return undefined;
  }
  const load0 = loadavg()[0];
  const fsyncMs = fdatasyncMs();
  const server = await start();
  let r: R;
  try {
    console.log(`\n[${label}] ${tier}: ${server.settings}; ${server.connections}`);
    r = await measure(server);
  } finally {
    await server.stop();
  }
  return { ...r, target: kind.name, durability, tier, settings: server.settings, connections: server.connections, loadAverage: [load0, loadavg()[0]], fdatasyncMs: fsyncMs };
}

/** Cores as a percentage of one core. */
export const pct = (cores: number | undefined) => (cores === undefined ? 'n/a' : `${(cores * 100).toFixed(0)}%`);

/** The machine line printed after each configuration. */
export function machineLine(c: MeasuredConfig & WindowCpu): string {
  return `server CPU ${pct(c.serverCpuCores)} of a core, client ${pct(c.clientCpuCores)}; load average ${c.loadAverage[0].toFixed(2)} → ${c.loadAverage[1].toFixed(2)}; fdatasync ${fmtMs(c.fdatasyncMs)} ms before`;
}

/** The result table's last columns: the check, then what the machine did. */
export const MACHINE_COLUMNS = ['check', 'server CPU', 'server µs/op', 'client CPU', 'load', 'fdatasync ms'];

/** The server's CPU time per operation, µs; undefined when its CPU is not known or nothing was answered. */
export function serverUsPerOp(c: WindowCpu & { opsPerS: number }): number | undefined {
  return c.serverCpuCores !== undefined && c.opsPerS > 0 ? (c.serverCpuCores * 1e6) / c.opsPerS : undefined;
}

export function machineCells(c: MeasuredConfig & WindowCpu & { opsPerS: number; check: { ok: boolean } }): string[] {
  const us = serverUsPerOp(c);
  const usPerOp = us === undefined ? 'n/a' : fmtInt(us);
  return [c.check.ok ? 'OK' : 'FAILED', pct(c.serverCpuCores), usPerOp, pct(c.clientCpuCores), c.loadAverage[0].toFixed(1), fmtMs(c.fdatasyncMs)];
}
