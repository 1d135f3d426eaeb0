// Orders across channels: a customer orders 1 to maxOrderLines SKUs, with prices, on the web, in
// the app, at a store's counter (the endless aisle: shipped home) or at a store's kiosk; picked
// up at a store or shipped to an address near a city (the engine allocates from the fewest, then
// nearest, locations). Each order's life is planned when it is placed (order-life.ts) and its
// steps follow, each at least the follow-up lag after the one before.

import { Backlog } from './backlog.ts';
import { planOrder, stepEvent, type Step } from './order-life.ts';
import { upTo, type RoleFactory } from './world.ts';

/** Customer ids repeat across orders (and runs), as regular customers do. */
const CUSTOMERS = 100_000;
/** Where orders are placed. Store orders are shipped (the shelf was empty); the others are picked up with `pickupShare`. */
export const CHANNEL_SHARES: ReadonlyArray<readonly [channel: 'web' | 'app' | 'store' | 'kiosk', share: number]> = [
  ['web', 0.45],
  ['app', 0.32],
  ['store', 0.15],
  ['kiosk', 0.08],
];
/** Shelf prices in cents: a SKU always has the same one. */
const PRICE_POINTS = [499, 999, 1499, 1999, 2499, 2999, 3999, 4999, 7999, 9999, 14999];
export const CURRENCY = 'EUR';

export function priceOf(sku: string): number {
  let h = 2166136261;
  for (let i = 0; i < sku.length; i++) h = Math.imul(h ^ sku.charCodeAt(i), 16777619);
  return PRICE_POINTS[(h >>> 0) % PRICE_POINTS.length];
}

function channelOf(u: number): 'web' | 'app' | 'store' | 'kiosk' {
  let acc = 0;
  for (const [channel, share] of CHANNEL_SHARES) if (u < (acc += share)) return channel;
  return 'web';
}

export const checkoutRole: RoleFactory = (world, rand) => {
  const pending = new Backlog<{ step: Step; rest: Step[] }>(world.lag);
  let orders = 0;
  const { geography } = world;
  return {
    next(n, id) {
      const due = pending.takeDue(n);
      if (due !== undefined) {
        const [after, ...rest] = due.rest;
        // The next step waits a lag after this one, so it cannot overtake it.
        if (after !== undefined) pending.push(n, { step: after, rest });
        return stepEvent(due.step, id);
      }
      const k = orders++;
      const order = `${world.idPrefix}-o${k}`;
      const lines = world.catalogue.distinct(upTo(world.config.maxOrderLines, rand), rand).map((sku) => ({ sku, qty: upTo(2, rand), price: priceOf(sku) }));
      const channel = channelOf(rand());
      const here = channel === 'store' || channel === 'kiosk' ? geography.store(rand) : undefined;
      const pickup = channel !== 'store' && rand() < world.config.pickupShare ? (here ?? geography.store(rand)) : undefined;
      const plan = planOrder({ order, lines, pickup, returnId: `${world.idPrefix}-ret${k}` }, geography, rand);
      world.orderEnds.set(order, plan.end);
      const [first, ...rest] = plan.steps;
      if (first !== undefined) pending.push(n, { step: first, rest });
      const where = pickup !== undefined ? { pickup: pickup.id } : { ship: geography.shipTo(rand) };
      return { id, type: 'order.placed', order, customer: `cust-${Math.floor(rand() * CUSTOMERS)}`, channel, currency: CURRENCY, lines, ...where };
    },
  };
};
