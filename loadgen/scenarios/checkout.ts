// Online checkouts: a customer orders 1 to maxOrderLines SKUs, shipped to an address near a city
// (the engine allocates from the fewest, then nearest, locations) or picked up at a store; later
// the order is fulfilled, or now and then cancelled.

import { Backlog } from './backlog.ts';
import { upTo, type RoleFactory } from './world.ts';

const FULFILLED_SHARE = 0.9;
/** Customer ids repeat across orders (and runs), as regular customers do. */
const CUSTOMERS = 100_000;

type Outcome = 'order.fulfilled' | 'order.cancelled';

export const checkoutRole: RoleFactory = (world, rand) => {
  const placed = new Backlog<{ order: string; outcome: Outcome }>(world.lag);
  let orders = 0;
  return {
    next(n, id) {
      const due = placed.takeDue(n);
      if (due !== undefined) return { id, type: due.outcome, order: due.order };
      const order = `${world.idPrefix}-o${orders++}`;
      const lines = world.catalogue.distinct(upTo(world.config.maxOrderLines, rand), rand).map((sku) => ({ sku, qty: upTo(2, rand) }));
      const where = rand() < world.config.pickupShare ? { pickup: world.geography.store(rand).id } : { ship: world.geography.shipTo(rand) };
      placed.push(n, { order, outcome: rand() < FULFILLED_SHARE ? 'order.fulfilled' : 'order.cancelled' });
      return { id, type: 'order.placed', order, customer: `cust-${Math.floor(rand() * CUSTOMERS)}`, lines, ...where };
    },
  };
};
