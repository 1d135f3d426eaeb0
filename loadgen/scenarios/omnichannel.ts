// The `omnichannel` scenario: an omnichannel retailer's day as load. Roles (roles.ts) make the
// events in the proportions of the mix: online checkouts, cart holds, store counters,
// warehouses, customers browsing. The subscribers are storefront shoppers, members in the app on
// their recommendations, and in-store kiosks (watchers.ts). The set-up declares the stores and
// warehouses (geography.ts), stocks every SKU at each and, when customers browse, gives every
// member a profile (shoppers.ts). Deterministic for a seed: the same settings make the same
// events and the same subscriptions.

import { chunked, prng } from '../stock-workload.ts';
import type { InputEvent } from '../../engine/mod.ts';
import { Catalogue } from './catalogue.ts';
import { Geography } from './geography.ts';
import type { OmnichannelConfig } from './types.ts';
import { ROLES } from './roles.ts';
import { Shoppers } from './shoppers.ts';
import { DESK_FLAGS, SETUP_BODY, type EventSource, type SubscriberPlan } from './source.ts';
import { associatePlans, kioskPlans, recsPlans, shopperPlans } from './watchers.ts';
import type { Role, World } from './world.ts';

/** Starting stock per row: a store's shelf and back room, a warehouse's bays. */
const STORE_STOCK = 200;
const WAREHOUSE_STOCK = 2000;

export class OmnichannelScenario implements EventSource {
  readonly name = 'omnichannel';
  private readonly world: World;
  private readonly roles: Role[] = [];
  private readonly cumulative: number[] = [];
  private readonly pickRole: () => number;
  private n = 0;

  /** `unusedFlags`: the desks' flags, and --skus too when a scenario file sets "skus". */
  constructor(
    config: OmnichannelConfig,
    idPrefix: string,
    lag: number,
    readonly unusedFlags: readonly string[] = DESK_FLAGS,
  ) {
    this.world = {
      catalogue: new Catalogue(config.skus, config.seed),
      geography: new Geography(config.stores, config.warehouses),
      shoppers: new Shoppers(config.shoppers, config.seed, idPrefix),
      config,
      idPrefix,
      lag,
      orderEnds: new Map(),
    };
    const total = Object.values(config.mix).reduce((s, w) => s + w, 0);
    let acc = 0;
    // Each role's stream is seeded by its place in the registry, not in this mix: changing one
    // role's weight leaves what the others make, event by event, the same.
    Object.entries(ROLES).forEach(([name, make], k) => {
      const weight = config.mix[name] ?? 0;
      if (weight <= 0) return;
      this.roles.push(make(this.world, prng(config.seed + 101 * (k + 1))));
      this.cumulative.push((acc += weight / total));
    });
    this.pickRole = prng(config.seed + 7);
  }

  private get browsing(): boolean {
    return (this.world.config.mix.customer ?? 0) > 0;
  }

  setup(): InputEvent[][] {
    const { catalogue, geography, shoppers, idPrefix } = this.world;
    const browsing = this.browsing;
    function* rows(): Generator<InputEvent> {
      for (const sku of catalogue.all()) {
        for (const site of geography.sites) {
          yield { id: `${idPrefix}-seed-${sku}-${site.id}`, type: 'stock.received', sku, location: site.id, qty: site.kind === 'store' ? STORE_STOCK : WAREHOUSE_STOCK };
        }
      }
      if (browsing) yield* shoppers.profiles();
    }
    return [geography.locationEvents(idPrefix), ...chunked(rows(), SETUP_BODY)];
  }

  next(): InputEvent {
    const u = this.pickRole();
    let i = 0;
    while (i < this.cumulative.length - 1 && u >= this.cumulative[i]) i++;
    const n = this.n++;
    return this.roles[i].next(n, `${this.world.idPrefix}-${n}`);
  }

  /** Customers follow their orders only when orders are placed. */
  get orderFollowers(): number {
    return (this.world.config.mix.checkout ?? 0) > 0 ? this.world.config.orderFollowers : 0;
  }

  /** The status this run's steps leave `order` in; asked once per order (then forgotten). */
  orderEnd(order: string): string | undefined {
    const end = this.world.orderEnds.get(order);
    this.world.orderEnds.delete(order);
    return end;
  }

  /**
   * Kiosks (stores × kiosksPerStore, at most half of `count`), the rest storefront clients: of
   * those, when customers browse, `recsShare` are members in the app on their recommendations,
   * and, when orders are placed, some of the other shoppers' places go to store associates
   * (stores × associatesPerStore, at most a quarter of `count`).
   */
  subscribers(count: number): SubscriberPlan[] {
    const { catalogue, geography, shoppers, config } = this.world;
    const rand = prng(config.seed + 5);
    const kiosks = Math.min(geography.stores.length * config.kiosksPerStore, Math.floor(count / 2));
    const members = this.browsing ? Math.round((count - kiosks) * config.recsShare) : 0;
    // Taken from the storefront shoppers only, so the kiosks and members stay as many as before.
    const associates = (config.mix.checkout ?? 0) > 0 ? Math.min(geography.stores.length * config.associatesPerStore, Math.floor(count / 4), count - kiosks - members) : 0;
    const popularSku = () => catalogue.popular(rand());
    const shopperList = shopperPlans(count - kiosks - associates - members, popularSku, rand);
    const kioskList = kioskPlans(geography.stores, kiosks, (k) => catalogue.distinct(k, rand), rand);
    // The regulars, most frequent first: a draw by visits would mostly pick shoppers from the
    // long tail, whose lists hardly change while a run lasts.
    let rank = 0;
    const member = () => {
      for (let tries = 0; tries < shoppers.size; tries++) {
        const k = rank++ % shoppers.size;
        if (shoppers.isMember(k)) return shoppers.customer(k);
      }
      return undefined;
    };
    // Their own stream: adding associates leaves every other subscriber's topics as they were.
    const staffRand = prng(config.seed + 9);
    const associateList = associatePlans(geography.stores, associates, (k) => catalogue.distinct(k, staffRand), staffRand);
    return [...shopperList, ...recsPlans(members, member, popularSku, rand), ...kioskList, ...associateList];
  }
}
