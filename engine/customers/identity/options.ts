// Segment Unify's identity resolution settings, as omnistream reads them: per-kind limits,
// per-kind shared thresholds (the store's shared tablet) and blocked values. Kinds are looked
// up as own properties only, so an id such as `__proto__:x` finds the defaults, not Object's.

import { blockKeys, normalizeValue } from './ids.ts';

export interface IdentityOptions {
  /**
   * Ids of a kind one customer may hold (Segment "Limit"); `'*'` sets every kind not named.
   * Defaults: customer unlimited, phone 2, email 3, wechat 2, device 10, others 10. At least 1:
   * a customer always holds the id it is named by.
   */
  limits?: Record<string, number>;
  /**
   * An id that has joined this many customers together bridges no further merge; `'*'` as above.
   * Defaults: customer unlimited, every other kind 2 (one merge each). 1 = never bridges.
   */
  sharedAfter?: Record<string, number>;
  /** Values that never link, on top of `0`, `-1`, `null`, `anonymous` and empty (case and spaces ignored). */
  blocked?: string[];
  /** Ids one customer may hold across all kinds but `customer` (default 100): many kinds, each under its limit, stay bounded. */
  maxIds?: number;
  /** Explanation entries kept per customer, newest last (default 100). */
  logLimit?: number;
}

export const DEFAULT_LIMITS: Readonly<Record<string, number>> = { customer: Infinity, phone: 2, email: 3, wechat: 2, device: 10, '*': 10 };
export const DEFAULT_SHARED_AFTER: Readonly<Record<string, number>> = { customer: Infinity, '*': 2 };
export const DEFAULT_BLOCKED: readonly string[] = ['0', '-1', 'null', 'anonymous', ''];
const DEFAULT_MAX_IDS = 100;
const DEFAULT_LOG_LIMIT = 100;

export interface ResolvedIdentityOptions {
  limit(kind: string): number;
  sharedAfter(kind: string): number;
  blocked: ReadonlySet<string>;
  maxIds: number;
  logLimit: number;
}

const valid = (v: unknown, min: number): v is number => typeof v === 'number' && !Number.isNaN(v) && v >= min;

function perKind(given: Record<string, number> | undefined, defaults: Readonly<Record<string, number>>, min: number) {
  const table = new Map<string, number>();
  for (const source of [defaults, given ?? {}]) {
    for (const [kind, n] of Object.entries(source)) if (valid(n, 0)) table.set(kind.toLowerCase(), Math.max(min, Math.floor(n)));
  }
  const other = table.get('*') ?? defaults['*'];
  return (kind: string) => table.get(kind) ?? other;
}

function resolve(options: IdentityOptions): ResolvedIdentityOptions {
  return {
    limit: perKind(options.limits, DEFAULT_LIMITS, 1),
    sharedAfter: perKind(options.sharedAfter, DEFAULT_SHARED_AFTER, 1),
    blocked: new Set([...DEFAULT_BLOCKED, ...(options.blocked ?? [])].map(normalizeValue)),
    maxIds: valid(options.maxIds, 1) ? Math.floor(options.maxIds) : DEFAULT_MAX_IDS,
    logLimit: valid(options.logLimit, 1) ? Math.floor(options.logLimit) : DEFAULT_LOG_LIMIT,
  };
}

// Options live as long as their processor: resolve each object once.
const cache = new WeakMap<IdentityOptions, ResolvedIdentityOptions>();
const DEFAULTS = resolve({});

export function resolveIdentityOptions(options?: IdentityOptions | ResolvedIdentityOptions): ResolvedIdentityOptions {
  if (options === undefined) return DEFAULTS;
  if ('blocked' in options && options.blocked instanceof Set) return options as ResolvedIdentityOptions;
  const given = options as IdentityOptions;
  let r = cache.get(given);
  if (r === undefined) cache.set(given, (r = resolve(given)));
  return r;
}

/** A placeholder value (`0`, `null`, `anonymous`, …) that must never link or name a customer. */
export function isBlocked(id: string, options?: IdentityOptions | ResolvedIdentityOptions): boolean {
  const { blocked } = resolveIdentityOptions(options);
  const [value, whole] = blockKeys(id);
  return blocked.has(value) || blocked.has(whole);
}
