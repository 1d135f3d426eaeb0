// Durability tiers of the comparison benches (reservations, loyalty): omnistream, PostgreSQL and
// Redis each offer several durability settings, and a figure is only set beside a peer's that
// promises the same. The flags choosing the settings and the omnistream ÷ peer ratios live here.

import { UsageError, type BenchFlags, type FlagSpec } from './flags.ts';

/**
 * - durable: acknowledged after the change is fsync'd (survives power loss);
 * - relaxed: acknowledged after it is written, flushed in the background within ~1 s;
 * - unsynced: never fsync'd by the system (the OS flushes when it likes).
 */
export type Tier = 'durable' | 'relaxed' | 'unsynced';

export const TIERS: readonly Tier[] = ['durable', 'relaxed', 'unsynced'];

export type TargetName = 'omnistream' | 'postgres' | 'redis';

/** A target's durability choices, each with its tier. */
export interface TieredTarget {
  readonly name: TargetName;
  readonly durabilities: Readonly<Record<string, Tier>>;
}

export const DURABILITY_FLAGS: FlagSpec[] = [
  { name: 'targets', kind: 'value', valueName: 'LIST', help: 'comma-separated subset of omnistream,postgres,redis (default all)' },
  { name: 'omni-durability', kind: 'value', valueName: 'LIST', help: 'omni serve --durability: fsync (durable), commit (relaxed), none (unsynced); default fsync,commit' },
  { name: 'pg-durability', kind: 'value', valueName: 'LIST', help: 'on = synchronous_commit=on (durable), off = synchronous_commit=off (relaxed), nofsync = fsync=off (unsynced); default on,off' },
  { name: 'redis-durability', kind: 'value', valueName: 'LIST', help: 'appendfsync always (durable), everysec (relaxed), no (unsynced); default always,everysec' },
];

const FLAG_OF: Record<TargetName, [flag: string, fallback: string[]]> = {
  omnistream: ['omni-durability', ['fsync', 'commit']],
  postgres: ['pg-durability', ['on', 'off']],
  redis: ['redis-durability', ['always', 'everysec']],
};

function list(raw: string | undefined, fallback: string[], allowed: readonly string[], flag: string): string[] {
  if (raw === undefined) return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item)) throw new UsageError(`--${flag}: '${item}' is not one of ${allowed.join(', ')}`);
  return [...new Set(items)];
}

/** Per target, the durability choices the flags ask for (empty = not run). */
export function readDurabilityPlan(f: BenchFlags, kinds: readonly TieredTarget[]): Record<string, string[]> {
  const names = kinds.map((k) => k.name);
  const targets = list(f.string('targets'), names, names, 'targets');
  const plan: Record<string, string[]> = {};
  for (const kind of kinds) {
    const [flag, fallback] = FLAG_OF[kind.name];
    const chosen = list(f.string(flag), fallback, Object.keys(kind.durabilities), flag);
    plan[kind.name] = targets.includes(kind.name) ? chosen : [];
  }
  return plan;
}

/** Durable first, then relaxed: within a tier the targets run back to back, so they see similar noise. */
export function tierSchedule<K extends TieredTarget>(kinds: readonly K[], plan: Record<string, string[]>): Array<{ kind: K; durability: string; tier: Tier }> {
  const out: Array<{ kind: K; durability: string; tier: Tier }> = [];
  for (const tier of TIERS) {
    for (const kind of kinds) for (const d of plan[kind.name] ?? []) if (kind.durabilities[d] === tier) out.push({ kind, durability: d, tier });
  }
  return out;
}

export interface TierFigure {
  target: string;
  durability: string;
  tier: Tier | undefined;
  value: number;
}

/** omnistream ÷ each peer for every pair at the same tier; keys `omnistream.fsync/postgres.on`. */
export function omniRatios(figures: readonly TierFigure[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const omni of figures.filter((c) => c.target === 'omnistream' && c.tier !== undefined)) {
    for (const peer of figures.filter((c) => c.target !== 'omnistream' && c.tier === omni.tier)) {
      out[`omnistream.${omni.durability}/${peer.target}.${peer.durability}`] = omni.value / peer.value;
    }
  }
  return out;
}
