// One handler per customer event type, and the reactions to the stock domain's events. Each
// works on a StagedState and returns its effects; a rejection writes nothing.

import { rejection } from '../errors.ts';
import type { Effects, EventContext, FollowedOutcome, InputEvent } from '../types.ts';
import { StagedState } from '../staged-state.ts';
import { customerRecord, ensureCustomer, idKind, link, setProfile } from './identity/mod.ts';
import { showOnKiosk, refreshKiosksShowing } from './kiosks.ts';
import { followOrder, mergeOrders } from './orders.ts';
import { recordActivity, type ActivityKind } from './recommender/mod.ts';
import { mergeSessions, sessionFor } from './sessions.ts';
import { isLocation, isStore } from './stock-filter.ts';
import { topics, type ResolvedCustomerOptions } from './types.ts';

type Handler = (state: StagedState, ev: InputEvent, ctx: EventContext, o: ResolvedCustomerOptions) => Effects;

const blockedSubject = (ev: InputEvent): Effects => ({ result: rejection('invalid_event', `${ev.type}: '${ev.subject as string}' is a blocked identifier and names no customer`) });

const activity: Handler = (state, ev, ctx, o) => {
  const who = ensureCustomer(state, ev.subject as string, { time: ctx.eventTime, event: ev.id }, o.identity);
  if ('blocked' in who) return blockedSubject(ev);
  const session = sessionFor(state, who.customer, ctx.eventTime, o.sessionGapMs);
  recordActivity(state, session.id, ev.sku as string, ev.type.slice('activity.'.length) as ActivityKind, ctx.eventTime, o.recommender);
  return { result: { ok: true, customer: who.customer, session: session.id }, writes: state.writes(), changed: recsTopics(state, who.customer) };
};

/** Customer ids beyond its name whose `recs/` topic is updated too (bounds the topics per event). */
const RECS_ALIASES = 4;

/**
 * The topics showing a customer's list: `recs/<name>`, and `recs/<customer id>` for the bare
 * customer ids it holds — a shopper first seen by a device keeps that name, while its customer
 * token (sub = the customer id) watches `recs/<customer id>`.
 */
function recsTopics(state: StagedState, customer: string): string[] {
  const out = [topics.recs(customer)];
  for (const id of customerRecord(state, customer)?.ids ?? []) {
    if (out.length > RECS_ALIASES) break;
    if (id !== customer && idKind(id) === 'customer') out.push(topics.recs(id));
  }
  return out;
}

const linked: Handler = (state, ev, ctx, o) => {
  const outcome = link(state, ev.ids as string[], (ev.customer ?? undefined) as string | undefined, { time: ctx.eventTime, event: ev.id }, o.identity);
  // Nothing to link: every id (and the customer) is a blocked value.
  if (outcome.customer === undefined) return { result: rejection('invalid_event', `identity.linked: every id is a blocked value (${outcome.blocked.join(', ')})`) };
  const changed = new Set<string>();
  for (const m of outcome.merged) {
    mergeSessions(state, m.from, m.into, o.sessionGapMs, o.recommender);
    mergeOrders(state, m.from, m.into, o.ordersKept);
    // Subscribers of the merged-away name keep getting the survivor's list (render resolves it).
    changed.add(topics.recs(m.from));
    for (const t of recsTopics(state, m.into)) changed.add(t);
  }
  // A customer id newly attached to a customer named otherwise now has its own topic to update.
  if (outcome.customer !== undefined && outcome.attached.some((id) => idKind(id) === 'customer')) {
    for (const t of recsTopics(state, outcome.customer)) changed.add(t);
  }
  return { result: { ok: true, ...outcome }, writes: state.writes(), changed: [...changed] };
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
  const who = ensureCustomer(state, ev.subject as string, { time: ctx.eventTime, event: ev.id }, o.identity);
  if ('blocked' in who) return blockedSubject(ev);
  const message = showOnKiosk(state, ev.kiosk as string, who.customer, location, ctx.eventTime, o.listSize, o.recommender);
  return {
    result: { ok: true, customer: who.customer, items: message.data.items },
    writes: state.writes(),
    messages: [message],
  };
};

export const HANDLERS: Record<string, Handler> = {
  'identity.linked': linked,
  'customer.profile': profile,
  'activity.viewed': activity,
  'activity.carted': activity,
  'activity.purchased': activity,
  'kiosk.identified': kioskIdentified,
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
  if (ev.type.startsWith('order.')) followOrder(state, ev, ctx.eventTime, o.ordersKept, o.identity);
  const messages: Effects['messages'] = [];
  for (const topic of outcome.changed) {
    // Once per SKU: its totals topic `stock/<sku>` (the rows are `stock/<sku>@<location>`).
    if (!topic.startsWith('stock/') || topic.includes('@')) continue;
    messages.push(...refreshKiosksShowing(state, topic.slice('stock/'.length), ctx.eventTime, o.listSize, o.recommender));
  }
  return { writes: state.writes(), ...(messages.length > 0 ? { messages } : {}) };
}
