// The original scenario file format, {"mix": {type: weight}, "skus": N, "locations": L}: a
// weighted mix of stock event types over Zipf-popular SKUs at L locations, deterministic.

import { UsageError } from '../../flags/mod.ts';
import type { InputEvent } from '../../engine/mod.ts';
import { ZipfSampler, chunked, locationEvents, locationName, prng, seedEvents, skuName } from '../stock-workload.ts';
import { DESK_FLAGS, SETUP_BODY, type EventSource, type SubscriberPlan } from './source.ts';
import { shopperPlans } from './watchers.ts';

export interface ScenarioFile {
  mix: Record<string, number>;
  skus: number;
  locations: number;
}

export const MIX_TYPES = ['stock.received', 'stock.sold', 'stock.returned', 'stock.adjusted', 'stock.safety', 'stock.reserve', 'stock.release', 'stock.commit', 'stock.transfer'] as const;

/** `skus` × `locations` bench locations, each row stocked: the stock scenarios' set-up. */
export function stockSetup(skus: number, locations: number, idPrefix: string): InputEvent[][] {
  return [locationEvents(locations, idPrefix), ...chunked(seedEvents(skus, locations, idPrefix), SETUP_BODY)];
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
  /** The file names its SKUs and locations; it has no desks. */
  readonly unusedFlags = [...DESK_FLAGS, 'skus'];
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
    return stockSetup(this.file.skus, this.file.locations, this.idPrefix);
  }

  subscribers(count: number): SubscriberPlan[] {
    return shopperPlans(count, () => skuName(this.zipf.sample(this.pick())), prng(5));
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
