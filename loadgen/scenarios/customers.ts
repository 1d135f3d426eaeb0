// Customers browsing: shoppers' visits on the web, in the app and in the stores, as the
// activity stream the engine's event-time sessions and online recommender learn from. Most steps
// view a Zipf-popular SKU; some put a SKU viewed on this visit in the cart, fewer buy a carted one.
// Members browsing the web signed out (by device) sign in part-way now and then, which links the
// device and their email or phone to their customer id; members visiting their store start at a
// kiosk now and then: the kiosk identifies them (their recommendations, filtered by that store's
// stock, appear on its screen) and they browse on it. Non-members only browse the web, by device.
// Many visits are under way at once and interleave, as on a real site.

import type { InputEvent } from '../../engine/mod.ts';
import { kioskId } from './watchers.ts';
import type { RoleFactory, World } from './world.ts';

export const CUSTOMER_SHARES = {
  /** Where a member's visit happens; non-members only browse the web. */
  channel: { web: 0.5, app: 0.3, store: 0.2 },
  /** Members' web visits that start signed out, by device (the others are still signed in). */
  signedOutWeb: 0.6,
  /** A step that could buy (something is in the cart) buys this often, … */
  purchase: 0.06,
  /** … one that could cart (something was viewed) carts this often more; the other steps are views. */
  cart: 0.12,
  /** At a kiosk members scan their loyalty card (the customer id); those who sign in by phone type the number instead this often. */
  kioskByPhone: 0.3,
} as const;

/** Activities per visit: 1 + a geometric number, this many on average. */
export const MEAN_ACTIVITIES = 8;
/** Visits under way at once: each event continues (or, once it is over, replaces) one of them. */
const OPEN_VISITS = 256;
const MAX_ACTIVITIES = 100;
/** SKUs a visit remembers having viewed: what it may cart. */
const VIEWED_KEPT = 20;

type Channel = 'web' | 'app' | 'store' | 'kiosk';

interface Visit {
  shopper: number;
  subject: string;
  channel: Channel;
  /** The store, for store and kiosk visits. */
  location?: string;
  /** Activities still to come. */
  left: number;
  /** Sign in when this many activities are left (0: after the last, at checkout); undefined: never. */
  signInAt?: number;
  /** The visit's first event is this kiosk identifying the member. */
  kiosk?: string;
  viewed: string[];
  carted: string[];
}

export const customerRole: RoleFactory = (world, rand) => {
  const visits: Array<Visit | undefined> = new Array(OPEN_VISITS);
  return {
    next(_n, id) {
      const slot = Math.floor(rand() * OPEN_VISITS);
      let visit = visits[slot];
      if (visit === undefined || (visit.left === 0 && visit.signInAt === undefined)) visit = visits[slot] = startVisit(world, rand);
      if (visit.kiosk !== undefined) {
        const kiosk = visit.kiosk;
        visit.kiosk = undefined;
        return { id, type: 'kiosk.identified', kiosk, location: visit.location!, subject: visit.subject };
      }
      if (visit.left === visit.signInAt) {
        visit.signInAt = undefined;
        visit.subject = world.shoppers.customer(visit.shopper);
        return { id, type: 'identity.linked', ids: [world.shoppers.device(visit.shopper), world.shoppers.contact(visit.shopper)], customer: visit.subject };
      }
      visit.left--;
      return activity(world, visit, id, rand);
    },
  };
};

function startVisit(world: World, rand: () => number): Visit {
  const { shoppers, config, geography } = world;
  const shopper = shoppers.frequent(rand());
  const activities = 1 + Math.min(MAX_ACTIVITIES - 1, Math.floor(Math.log(1 - rand()) / Math.log(1 - 1 / MEAN_ACTIVITIES)));
  const base = { shopper, left: activities, viewed: [], carted: [] };
  if (!shoppers.isMember(shopper)) return { ...base, subject: shoppers.device(shopper), channel: 'web' };
  const customer = shoppers.customer(shopper);
  const { web, app } = CUSTOMER_SHARES.channel;
  const u = rand();
  if (u < web) {
    if (rand() >= CUSTOMER_SHARES.signedOutWeb) return { ...base, subject: customer, channel: 'web' };
    const signsIn = rand() < config.signInShare;
    return { ...base, subject: shoppers.device(shopper), channel: 'web', ...(signsIn ? { signInAt: Math.floor(rand() * activities) } : {}) };
  }
  if (u < web + app) return { ...base, subject: customer, channel: 'app' };
  const location = geography.stores[shoppers.homeStore(shopper, geography.stores.length)].id;
  if (config.kiosksPerStore === 0 || rand() >= config.kioskShare) return { ...base, subject: customer, channel: 'store', location };
  const kiosk = kioskId(location, 1 + Math.floor(rand() * config.kiosksPerStore));
  // A typed-in phone number the engine has not seen linked yet starts a customer of its own, which
  // merges into the member's account once they sign in with that phone.
  const byPhone = shoppers.signsInByPhone(shopper) && rand() < CUSTOMER_SHARES.kioskByPhone;
  return { ...base, subject: byPhone ? shoppers.contact(shopper) : customer, channel: 'kiosk', location, kiosk };
}

function activity(world: World, visit: Visit, id: string, rand: () => number): InputEvent {
  const { purchase, cart } = CUSTOMER_SHARES;
  const u = rand();
  let kind: 'viewed' | 'carted' | 'purchased';
  let sku: string;
  if (visit.carted.length > 0 && u < purchase) {
    kind = 'purchased';
    sku = visit.carted.splice(Math.floor(rand() * visit.carted.length), 1)[0];
  } else if (visit.viewed.length > 0 && u < purchase + cart) {
    kind = 'carted';
    sku = visit.viewed[Math.floor(rand() * visit.viewed.length)];
    if (!visit.carted.includes(sku)) visit.carted.push(sku);
  } else {
    kind = 'viewed';
    sku = world.catalogue.popular(rand());
    visit.viewed.push(sku);
    if (visit.viewed.length > VIEWED_KEPT) visit.viewed.shift();
  }
  return {
    id,
    type: `activity.${kind}`,
    subject: visit.subject,
    sku,
    channel: visit.channel,
    ...(visit.location !== undefined ? { location: visit.location } : {}),
  };
}
