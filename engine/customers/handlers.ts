// One handler per customer event type a sender may send, and the reactions to other domains'
// events. Each works on a StagedState and returns its effects; a rejection writes nothing. Each
// runs on the partition processor.ts names for it, and writes only what that partition owns.

import { rejection } from '../errors.ts';
import type { Effects, EventContext, FollowedOutcome, InputEvent } from '../types.ts';
import { StagedState } from '../staged-state.ts';
import { applyActivity } from './activity.ts';
import { applyCoupon } from './coupons.ts';
import { erased, linkStarted } from './erasure.ts';
import { ensureCustomer, isBlocked, link, setProfile } from './identity/mod.ts';
import type { LinkWait, MovedEvent } from './internal-events.ts';
import { showOnKiosk, refreshKiosksShowing, skusChanged } from './kiosks.ts';
import { orderNews } from './orders.ts';
import { shopperNotice } from './shopper-notice.ts';
import { aliasTouches, forward, homeOf } from './route.ts';
import { isLocation, isStore } from './stock-filter.ts';
import { applyLoyalty, redemptionCustomer } from './loyalty.ts';
import { keys, type ResolvedCustomerOptions } from './types.ts';

type Handler = (state: StagedState, ev: InputEvent, ctx: EventContext, o: ResolvedCustomerOptions) => Effects;

const blockedSubject = (ev: InputEvent): Effects => ({ result: rejection('invalid_event', `${ev.type}: '${ev.subject as string}' is a blocked identifier and names no customer`) });

const activity: Handler = (state, ev, ctx, o) => {
  const subject = ev.subject as string;
  if (isBlocked(subject, o.identity)) return blockedSubject(ev);
  const home = homeOf(state, subject);
  if (home === subject) return applyActivity(state, ev, subject, ctx.eventTime, o);
  return { result: { ok: true, pending: true }, emit: [forward(`${ev.id}/fwd`, home, ev, ctx.eventTime, { origin: subject })] };
};

/** Earning and redeeming, on the subject's partition: applied here while the customer's state is here, else forwarded to it. */
const loyalty: Handler = (state, ev, ctx, o) => {
  const subject = ev.subject as string;
  if (isBlocked(subject, o.identity)) return blockedSubject(ev);
  const home = homeOf(state, subject);
  if (home !== subject) return { result: { ok: true, pending: true }, emit: [forward(`${ev.id}/fwd`, home, ev, ctx.eventTime, { origin: subject })] };
  const outcome = applyLoyalty(state, ev, subject, ctx.eventTime, subject);
  // The customer's other customer ids have `loyalty/` topics of their own, changed on their partitions.
  const touches = outcome.result.ok ? aliasTouches(state, subject, ev.id, 'loyalty') : [];
  if (outcome.then === undefined) return { ...outcome.effects, result: outcome.result, ...(touches.length > 0 ? { emit: touches } : {}) };
  return { ...outcome.effects, result: { ok: true, pending: true }, emit: [outcome.then, ...touches] };
};

/** A refund, on the redemption's partition: its index names the customer whose points it took. */
const refunded: Handler = (state, ev, ctx) => {
  const redemption = ev.redemption as string;
  const customer = redemptionCustomer(state, redemption);
  if (customer === undefined) return { result: rejection('unknown_redemption', `no redemption '${redemption}'`) };
  return { result: { ok: true, pending: true }, emit: [forward(`${ev.id}/fwd`, customer, ev, ctx.eventTime, { origin: redemption })] };
};

const coupon: Handler = (state, ev, ctx, o) => applyCoupon(state, ev, ctx, o);

const linked: Handler = (state, ev, ctx, o) => {
  const outcome = link(state, ev.ids as string[], (ev.customer ?? undefined) as string | undefined, { time: ctx.eventTime, event: ev.id }, o.identity);
  // Nothing to link: every id (and the customer) is a blocked value.
  if (outcome.customer === undefined) return { result: rejection('invalid_event', `identity.linked: every id is a blocked value (${outcome.blocked.join(', ')})`) };
  // What was kept under each merged-away name, and under each id attached now (activity of an id
  // the identity partition had not heard of yet), moves to the customer's partition.
  const names = new Set([...outcome.merged.map((m) => m.from), ...outcome.attached]);
  names.delete(outcome.customer);
  const result = { ok: true as const, ...outcome };
  if (names.size === 0) return { result, writes: state.writes() };
  // Answered once all of it has arrived, so that what the sender reads or sends next sees one customer.
  const moves: MovedEvent[] = [...names].map((from) => ({ id: `${ev.id}/move/${from}`, type: 'customer.moved', from, into: outcome.customer!, link: ev.id }));
  const touch = [outcome.customer, ...names];
  state.put(keys.linkWait(ev.id), { left: moves.length, result, event: ev, touch } satisfies LinkWait);
  linkStarted(state, ev.id, touch);
  return { result: { ok: true, pending: true }, writes: state.writes(), emit: moves };
};

const profile: Handler = (state, ev, ctx, o) => {
  const at = { time: ctx.eventTime, event: ev.id };
  const customer = setProfile(state, ev.customer as string, ev.tier as 'standard' | 'vip', (ev.language ?? undefined) as string | undefined, at, o.identity);
  if (customer === undefined) return { result: rejection('invalid_event', `customer.profile: '${ev.customer as string}' is a blocked identifier and names no customer`) };
  return { result: { ok: true, customer }, writes: state.writes() };
};

const kioskIdentified: Handler = (state, ev, ctx, o) => {
  const location = ev.location as string;
  if (!isLocation(state, location)) return { result: rejection('unknown_location', `no location '${location}'`) };
  if (!isStore(state, location)) return { result: rejection('invalid_event', `kiosk.identified: '${location}' is a warehouse, not a store`) };
  const subject = ev.subject as string;
  if (isBlocked(subject, o.identity)) return blockedSubject(ev);
  const customer = homeOf(state, subject);
  const kiosk = ev.kiosk as string;
  const message = showOnKiosk(state, kiosk, customer, location, ctx.eventTime, o.listSize, o.recommender);
  // The store's associates see who is at the kiosk, on the store partition's topic (one commit later).
  const notice = shopperNotice(state, ev.id, kiosk, customer, location, message.data.items);
  return { result: { ok: true, customer, items: message.data.items }, writes: state.writes(), messages: [message], emit: [notice] };
};

export const HANDLERS: Record<string, Handler> = {
  'identity.linked': linked,
  'customer.profile': profile,
  'activity.viewed': activity,
  'activity.carted': activity,
  'activity.purchased': activity,
  'kiosk.identified': kioskIdentified,
  'customer.erased': erased,
  'loyalty.earned': loyalty,
  'loyalty.redeemed': loyalty,
  'loyalty.refunded': refunded,
  'coupon.issued': coupon,
  'coupon.redeemed': coupon,
};

/**
 * Stock events that can empty a shown SKU (a receipt too: a SKU first seen at a warehouse has
 * nothing at the stores from then on; holds and their ends are the steps at the SKU of the
 * stock sagas — reservations and orders change a SKU's rows only through them), the order
 * events behind the 360 context (answered once their saga is done), and service
 * requests: a subject first seen asking for help gets a profile, so the ids it is later linked
 * with merge its requests rather than leave them behind under a name nobody resolves to.
 */
export const FOLLOWED = [
  'stock.received',
  'stock.returned',
  'stock.adjusted',
  'stock.safety',
  'stock.sold',
  'stock.hold',
  'stock.unhold',
  'stock.transfer',
  'order.placed',
  'order.fulfilled',
  'order.cancelled',
  'order.ready',
  'order.picked_up',
  'order.shipped',
  'order.delivered',
  'order.returned',
  'order.expired',
  'service.requested',
];

/** A followed event of another domain (FOLLOWED), after its owner applied it. */
export function followEvent(
  state: StagedState,
  ev: InputEvent,
  outcome: FollowedOutcome,
  ctx: EventContext,
  o: ResolvedCustomerOptions,
): Omit<Effects, 'result'> {
  if (ev.type === 'service.requested') {
    ensureCustomer(state, ev.subject as string, { time: ctx.eventTime, event: ev.id }, o.identity);
    return { writes: state.writes() };
  }
  if (ev.type.startsWith('order.')) {
    const news = orderNews(state, ev, ctx.eventTime, o.identity);
    if (news === undefined) return {};
    return { emit: [forward(`${ev.id}/news`, news.customer, ev, ctx.eventTime, { order: news.news })] };
  }
  const messages: Effects['messages'] = [];
  for (const sku of skusChanged(outcome.changed)) messages.push(...refreshKiosksShowing(state, sku, ctx.eventTime, o.listSize, o.recommender));
  return { writes: state.writes(), ...(messages.length > 0 ? { messages } : {}) };
}
