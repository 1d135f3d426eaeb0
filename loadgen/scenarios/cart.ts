// Cart holds: a web shopper puts a SKU in the cart and the shop holds it for a while
// (stock.reserve with ttlMs), at the store picked for click & reserve or wherever the engine
// finds the most available. Later the checkout commits the hold or the shopper removes the item
// (release); the rest walk away and their holds expire in the engine, as abandoned carts do.

import { Backlog } from './backlog.ts';
import { upTo, type RoleFactory } from './world.ts';

const COMMIT_SHARE = 0.6;
const RELEASE_SHARE = 0.25;
const AT_STORE_SHARE = 0.3;
/** Holds last 10–20 minutes: far longer than the follow-up lag at any useful rate. */
const TTL_MIN_MS = 600_000;
const TTL_SPREAD_MS = 600_000;

export const cartRole: RoleFactory = (world, rand) => {
  const held = new Backlog<{ reservation: string; outcome: 'stock.commit' | 'stock.release' }>(world.lag);
  let holds = 0;
  return {
    next(n, id) {
      const due = held.takeDue(n);
      if (due !== undefined) return { id, type: due.outcome, reservation: due.reservation };
      const reservation = `${world.idPrefix}-cart${holds++}`;
      const ev = {
        id,
        type: 'stock.reserve',
        reservation,
        sku: world.catalogue.popular(rand()),
        qty: upTo(2, rand),
        ttlMs: TTL_MIN_MS + Math.floor(rand() * TTL_SPREAD_MS),
        channel: 'web',
        ...(rand() < AT_STORE_SHARE ? { location: world.geography.store(rand).id } : {}),
      };
      const u = rand();
      if (u < COMMIT_SHARE) held.push(n, { reservation, outcome: 'stock.commit' });
      else if (u < COMMIT_SHARE + RELEASE_SHARE) held.push(n, { reservation, outcome: 'stock.release' });
      return ev;
    },
  };
};
