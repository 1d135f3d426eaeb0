// The omnichannel scenario's settings: defaults, and the strict reading of a scenario file such
// as {"scenario":"omnichannel","mix":{"checkout":2,"cart":3,"counter":4,"warehouse":1,"customer":10},
// "stores":20,"warehouses":2,"skus":5000,"kiosksPerStore":2}. Every mistake is a UsageError that
// names the key, so a typo never silently runs a different load.

import { UsageError } from '../../flags/mod.ts';
import { PLANNED_ROLES, ROLES, ROLE_NAMES } from './roles.ts';
import type { OmnichannelConfig } from './types.ts';

/** Browsing outnumbers every other actor of a shop: half the events are customers' activity. */
export const DEFAULT_MIX: Readonly<Record<string, number>> = { checkout: 2, cart: 3, counter: 4, warehouse: 1, customer: 10 };

/** The set-up posts one starting-stock row per (sku, location): this bounds it. */
const MAX_ROWS = 10_000_000;

export function omnichannelDefaults(skus: number): OmnichannelConfig {
  return {
    mix: { ...DEFAULT_MIX },
    skus,
    stores: 20,
    warehouses: 2,
    kiosksPerStore: 1,
    maxOrderLines: 3,
    pickupShare: 0.3,
    shoppers: 50_000,
    signInShare: 0.4,
    kioskShare: 0.4,
    recsShare: 0.2,
    associatesPerStore: 1,
    orderFollowers: 200,
    seed: 42,
  };
}

type Rule = { min: number; max: number; integer: boolean };

const NUMBERS: Record<Exclude<keyof OmnichannelConfig, 'mix'>, Rule> = {
  skus: { min: 1, max: 10_000_000, integer: true },
  stores: { min: 1, max: 500, integer: true },
  warehouses: { min: 1, max: 50, integer: true },
  kiosksPerStore: { min: 0, max: 20, integer: true },
  // The engine takes at most 200 lines per order (docs/protocol.md, order.placed).
  maxOrderLines: { min: 1, max: 200, integer: true },
  pickupShare: { min: 0, max: 1, integer: false },
  // The set-up posts a profile for each member (60%): this bounds it like the stock rows.
  shoppers: { min: 1, max: 1_000_000, integer: true },
  signInShare: { min: 0, max: 1, integer: false },
  kioskShare: { min: 0, max: 1, integer: false },
  recsShare: { min: 0, max: 1, integer: false },
  associatesPerStore: { min: 0, max: 20, integer: true },
  orderFollowers: { min: 0, max: 10_000, integer: true },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
};

const KEYS = ['scenario', 'mix', ...Object.keys(NUMBERS)];

/** Checks a settings object; missing keys take the defaults (`skus`: the --skus flag). */
export function parseOmnichannel(raw: Record<string, unknown>, label: string, skusFlag: number): OmnichannelConfig {
  const bad = (why: string) => new UsageError(`--scenario ${label}: ${why}`);
  for (const key of Object.keys(raw)) if (!KEYS.includes(key)) throw bad(`unknown key "${key}" (known: ${KEYS.join(', ')})`);
  const config = omnichannelDefaults(skusFlag);
  for (const [key, rule] of Object.entries(NUMBERS) as Array<[keyof typeof NUMBERS, Rule]>) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < rule.min || v > rule.max || (rule.integer && !Number.isInteger(v))) {
      throw bad(`"${key}" must be ${rule.integer ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max} (got ${JSON.stringify(v)})`);
    }
    config[key] = v;
  }
  if (raw.mix !== undefined) config.mix = parseMix(raw.mix, bad);
  const rows = config.skus * (config.stores + config.warehouses);
  if (rows > MAX_ROWS) throw bad(`skus × (stores + warehouses) = ${rows.toLocaleString('en-US')} rows of starting stock; at most ${MAX_ROWS.toLocaleString('en-US')}`);
  return config;
}

/** A mix names only known roles (the others get weight 0), with at least one positive weight. */
function parseMix(raw: unknown, bad: (why: string) => UsageError): Record<string, number> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`"mix" must be an object {role: weight} over ${ROLE_NAMES.join(', ')}`);
  const mix: Record<string, number> = {};
  for (const [role, weight] of Object.entries(raw)) {
    if (Object.hasOwn(PLANNED_ROLES, role)) throw bad(`role "${role}" is not available yet: ${PLANNED_ROLES[role]}`);
    if (!Object.hasOwn(ROLES, role)) throw bad(`role "${role}" is not one of ${ROLE_NAMES.join(', ')}`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw bad(`weight of "${role}" must be a number ≥ 0 (got ${JSON.stringify(weight)})`);
    mix[role] = weight;
  }
  if (!Object.values(mix).some((w) => w > 0)) throw bad('"mix" has no positive weight');
  return mix;
}
