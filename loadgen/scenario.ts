// What the load generator sends. "stock" (the default) is the benchmarks' stock workload
// (bench/stock-workload.ts): storefront receipts, sales, reservations and transfers over
// Zipf-popular SKUs. A scenario FILE is JSON {mix: {type: weight}, skus, locations} over the
// stock event types, generated here with the same SKU popularity and seeding.

import { readFileSync } from 'node:fs';
import { UsageError } from '../cli/args.ts';
import type { InputEvent } from '../engine/mod.ts';
import { StockWorkload, ZipfSampler, chunked, locationEvents, locationName, prng, seedEvents, skuName } from '../bench/stock-workload.ts';

export interface EventSource {
  readonly name: string;
  /** Bodies to send before the run (locations, then every row's starting stock). */
  setup(): InputEvent[][];
  next(): InputEvent;
  /** A SKU drawn with the workload's popularity, to choose what subscribers watch. */
  popularSku(): string;
}

export interface ScenarioParams {
  scenario: string;
  skus: number;
  idPrefix: string;
  /** A release or commit names a reservation at least this many events older. */
  releaseLag: number;
}

export const LOCATIONS = 10;
const SETUP_BODY = 5000;

export function openScenario(p: ScenarioParams): EventSource {
  if (p.scenario === 'stock') return stockScenario(p.skus, LOCATIONS, p.idPrefix, p.releaseLag);
  return new MixScenario(readScenarioFile(p.scenario), p.idPrefix, p.releaseLag);
}

function setupBodies(skus: number, locations: number, idPrefix: string): InputEvent[][] {
  return [locationEvents(locations, idPrefix), ...chunked(seedEvents(skus, locations, idPrefix), SETUP_BODY)];
}

function stockScenario(skus: number, locations: number, idPrefix: string, releaseLag: number): EventSource {
  const workload = new StockWorkload({ skus, locations, dist: 'zipf', idPrefix, releaseLag, seed: 42 });
  // A twin with the same seed has the same popularity ranking; drawing from it leaves the real stream untouched.
  const twin = new StockWorkload({ skus, locations, dist: 'zipf', idPrefix: `${idPrefix}-twin`, seed: 42 });
  return {
    name: 'stock',
    setup: () => setupBodies(skus, locations, idPrefix),
    next: () => workload.next(),
    popularSku() {
      for (;;) {
        const sku = twin.next().sku;
        if (typeof sku === 'string') return sku;
      }
    },
  };
}

export interface ScenarioFile {
  mix: Record<string, number>;
  skus: number;
  locations: number;
}

export const MIX_TYPES = ['stock.received', 'stock.sold', 'stock.returned', 'stock.adjusted', 'stock.safety', 'stock.reserve', 'stock.release', 'stock.commit', 'stock.transfer'] as const;

export function readScenarioFile(path: string): ScenarioFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--scenario ${path}: not 'stock' nor a readable JSON file (${(error as Error).message})`);
  }
  return parseScenario(raw, path);
}

export function parseScenario(raw: unknown, label: string): ScenarioFile {
  const o = raw as Partial<ScenarioFile> | null;
  const bad = (why: string) => new UsageError(`--scenario ${label}: ${why}`);
  if (typeof o !== 'object' || o === null || typeof o.mix !== 'object' || o.mix === null) throw bad('needs {"mix": {type: weight}, "skus": N, "locations": N}');
  for (const [type, weight] of Object.entries(o.mix)) {
    if (!(MIX_TYPES as readonly string[]).includes(type)) throw bad(`type '${type}' is not one of ${MIX_TYPES.join(', ')}`);
    if (typeof weight !== 'number' || !(weight >= 0)) throw bad(`weight of ${type} must be a number ≥ 0`);
  }
  if (!Object.values(o.mix).some((w) => w > 0)) throw bad('the mix has no positive weight');
  const count = (v: unknown, name: string, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw bad(`"${name}" must be an integer from 1 to ${max}`);
    return v;
  };
  return { mix: { ...o.mix }, skus: count(o.skus, 'skus', 10_000_000), locations: count(o.locations, 'locations', 1000) };
}

/** A weighted mix of stock event types over Zipf-popular SKUs, deterministic for a seed. */
export class MixScenario implements EventSource {
  readonly name: string;
  private readonly rand = prng(7);
  private readonly pick = prng(11);
  private readonly zipf: ZipfSampler;
  private readonly types: string[];
  private readonly cumulative: number[];
  private readonly open: Array<{ id: string; at: number }> = [];
  private n = 0;

  constructor(
    private readonly file: ScenarioFile,
    private readonly idPrefix: string,
    private readonly releaseLag: number,
  ) {
    this.name = 'file';
    this.zipf = new ZipfSampler(file.skus, 1);
    const entries = Object.entries(file.mix).filter(([, w]) => w > 0);
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let acc = 0;
    this.types = entries.map(([t]) => t);
    this.cumulative = entries.map(([, w]) => (acc += w / total));
  }

  setup(): InputEvent[][] {
    return setupBodies(this.file.skus, this.file.locations, this.idPrefix);
  }

  popularSku(): string {
    return skuName(this.zipf.sample(this.pick()));
  }

  next(): InputEvent {
    const u = this.rand();
    let type = this.types[this.types.length - 1];
    for (let i = 0; i < this.cumulative.length; i++) {
      if (u < this.cumulative[i]) {
        type = this.types[i];
        break;
      }
    }
    const id = `${this.idPrefix}-${this.n}`;
    const sku = skuName(this.zipf.sample(this.rand()));
    const location = locationName(Math.floor(this.rand() * this.file.locations));
    const qty = 1 + Math.floor(this.rand() * 3);
    let ev: InputEvent;
    switch (type) {
      case 'stock.adjusted':
        ev = { id, type, sku, location, onHand: 500 + Math.floor(this.rand() * 1000) };
        break;
      case 'stock.safety':
        ev = { id, type, sku, location, safety: Math.floor(this.rand() * 5) };
        break;
      case 'stock.reserve':
        ev = { id, type, reservation: `${id}-r`, sku, location, qty };
        this.open.push({ id: `${id}-r`, at: this.n });
        break;
      case 'stock.release':
      case 'stock.commit': {
        const head = this.open[0];
        ev = head !== undefined && this.n - head.at >= this.releaseLag ? { id, type, reservation: this.open.shift()!.id } : { id, type: 'stock.received', sku, location, qty };
        break;
      }
      case 'stock.transfer': {
        const to = locationName(Math.floor(this.rand() * this.file.locations));
        ev = to === location ? { id, type: 'stock.received', sku, location, qty } : { id, type, transfer: `${id}-t`, sku, from: location, to, qty };
        break;
      }
      default:
        ev = { id, type, sku, location, qty };
    }
    this.n++;
    return ev;
  }
}
