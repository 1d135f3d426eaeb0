// What the load generator sends, by scenario name or file:
// - "stock" (the default) is the benchmarks' stock workload (stock-workload.ts): receipts,
//   sales, reservations and transfers over Zipf-popular SKUs at 10 locations;
// - "omnichannel" is a retailer's day made of roles (scenarios/omnichannel.ts): checkouts, cart
//   holds, store counters, warehouses, customers browsing, watched by storefront shoppers,
//   members on their recommendations and in-store kiosks;
// - a FILE is JSON: {"scenario":"omnichannel", …settings} (scenarios/omnichannel-config.ts), or
//   without "scenario" the original {mix: {type: weight}, skus, locations} over the stock event
//   types (scenarios/stock-mix.ts).

import { readFileSync } from 'node:fs';
import { UsageError } from '../flags/mod.ts';
import { StockWorkload, prng } from './stock-workload.ts';
import { OmnichannelScenario } from './scenarios/omnichannel.ts';
import { omnichannelDefaults, parseOmnichannel } from './scenarios/omnichannel-config.ts';
import { DESK_FLAGS, type EventSource } from './scenarios/source.ts';
import { namespaced } from './namespace.ts';
import { ServiceScenario, type FirstContactOptions } from './scenarios/service.ts';
import { MixScenario, parseScenario, stockSetup, type ScenarioFile } from './scenarios/stock-mix.ts';
import type { OmnichannelConfig } from './scenarios/types.ts';
import { shopperPlans } from './scenarios/watchers.ts';

export type { DeskPlan, EventSource, SubscriberPlan, Watcher } from './scenarios/source.ts';
export { MIX_TYPES, parseScenario, type ScenarioFile } from './scenarios/stock-mix.ts';

export interface ScenarioParams {
  scenario: string;
  skus: number;
  /** Every name the scenario writes or watches carries it (namespace.ts). */
  idPrefix: string;
  /** A follow-up (release, commit, order fulfilment) names a step at least this many events older. */
  releaseLag: number;
  /** Agents (one desk each) of the service scenario; default DEFAULT_DESKS. */
  desks?: number;
  /** The service scenario with first contact (scenarios/first-contact.ts). */
  firstContact?: FirstContactOptions;
}

/** What a scenario file asks for. */
export type ScenarioSpec = { kind: 'omnichannel'; config: OmnichannelConfig } | { kind: 'mix'; file: ScenarioFile };

export const SCENARIO_NAMES = ['stock', 'omnichannel', 'service'] as const;
export const LOCATIONS = 10;
export const DEFAULT_DESKS = 20;

/** The scenario, with every name it writes or watches in the run's namespace. */
export function openScenario(p: ScenarioParams): EventSource {
  return namespaced(openUnprefixed(p), p.idPrefix);
}

function openUnprefixed(p: ScenarioParams): EventSource {
  if (p.scenario === 'stock') return stockScenario(p.skus, LOCATIONS, p.idPrefix, p.releaseLag);
  if (p.scenario === 'service') return new ServiceScenario(p.desks ?? DEFAULT_DESKS, p.idPrefix, p.firstContact);
  const spec: ScenarioSpec = p.scenario === 'omnichannel' ? { kind: 'omnichannel', config: omnichannelDefaults(p.skus) } : readScenarioFile(p.scenario, p.skus);
  // A file's own "skus" wins over --skus.
  if (spec.kind === 'omnichannel') return new OmnichannelScenario(spec.config, p.idPrefix, p.releaseLag, spec.config.skus === p.skus ? DESK_FLAGS : [...DESK_FLAGS, 'skus']);
  return new MixScenario(spec.file, p.idPrefix, p.releaseLag);
}

function stockScenario(skus: number, locations: number, idPrefix: string, releaseLag: number): EventSource {
  const workload = new StockWorkload({ skus, locations, dist: 'zipf', idPrefix, releaseLag, seed: 42 });
  // A twin with the same seed has the same popularity ranking; drawing from it leaves the real stream untouched.
  const twin = new StockWorkload({ skus, locations, dist: 'zipf', idPrefix: `${idPrefix}-twin`, seed: 42 });
  const popularSku = () => {
    for (;;) {
      const sku = twin.next().sku;
      if (typeof sku === 'string') return sku;
    }
  };
  return {
    name: 'stock',
    unusedFlags: DESK_FLAGS,
    setup: () => stockSetup(skus, locations, idPrefix),
    next: () => workload.next(),
    subscribers: (count) => shopperPlans(count, popularSku, prng(5)),
  };
}

/** A scenario file: omnichannel settings (with "scenario") or a stock-type mix (without). */
export function readScenarioFile(path: string, skusFlag: number): ScenarioSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--scenario ${path}: not one of ${SCENARIO_NAMES.join(', ')} nor a readable JSON file (${(error as Error).message})`);
  }
  return parseScenarioFile(raw, path, skusFlag);
}

export function parseScenarioFile(raw: unknown, label: string, skusFlag: number): ScenarioSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('scenario' in raw)) return { kind: 'mix', file: parseScenario(raw, label) };
  const o = raw as Record<string, unknown>;
  if (o.scenario === 'omnichannel') return { kind: 'omnichannel', config: parseOmnichannel(o, label, skusFlag) };
  throw new UsageError(`--scenario ${label}: "scenario" must be "omnichannel" (got ${JSON.stringify(o.scenario)}); a file without "scenario" is a {"mix": {type: weight}, "skus", "locations"} stock mix`);
}
