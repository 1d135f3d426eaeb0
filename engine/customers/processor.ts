// The customer processor: identities, profiles, event-time sessions, the online recommender,
// kiosk screens, and the reactions to stock and order events it follows. Pure: it reads
// through the StateView it is given and returns effects. Its state is spread over partitions by
// who owns it (partitioning.ts): each customer's on the customer's, identities on one, the
// recommender's items by SKU bucket, kiosks on one; work crosses between them as derived
// events (steps.ts).

import type { InputEvent, Processor, StateView } from '../types.ts';
import { StagedState } from '../staged-state.ts';
import { CUSTOMER_EVENT_FIELDS } from './events.ts';
import { FOLLOWED, followEvent, HANDLERS } from './handlers.ts';
import { customerExport } from './export.ts';
import { customerOrders } from './orders.ts';
import { INTERNAL_TYPES } from './internal-events.ts';
import { isShown, listFor, skusChanged } from './kiosks.ts';
import { IDENTITY_KEY, itemKey, KIOSKS_KEY } from './partitioning.ts';
import { customerNamed } from './route.ts';
import { expireLots, renderLoyalty } from './loyalty.ts';
import { STEPS } from './steps.ts';
import { isLocation } from './stock-filter.ts';
import { resolveCustomerOptions, type CustomerOptions, type ResolvedCustomerOptions } from './types.ts';

/** The field naming the partition key of each type keyed by a name it carries. */
const KEYED_BY: Readonly<Record<string, string>> = {
  'activity.viewed': 'subject',
  'activity.carted': 'subject',
  'activity.purchased': 'subject',
  'order.placed': 'order',
  'order.fulfilled': 'order',
  'order.cancelled': 'order',
  'order.ready': 'order',
  'order.picked_up': 'order',
  'order.shipped': 'order',
  'order.delivered': 'order',
  'order.returned': 'order',
  'order.expired': 'order',
  'customer.forwarded': 'customer',
  'customer.answered': 'origin',
  'customer.moved': 'from',
  'customer.absorb': 'into',
  'recs.touch': 'name',
  'customer.forget': 'name',
  'loyalty.earned': 'subject',
  'loyalty.redeemed': 'subject',
  'loyalty.refunded': 'redemption',
  'loyalty.noted': 'redemption',
  'loyalty.unnote': 'redemption',
  'coupon.issued': 'coupon',
  'coupon.redeemed': 'coupon',
  'coupon.forget': 'coupon',
};

/** Types one partition applies, besides the stock changes a kiosk may show (KIOSKS_KEY). */
const OWNED_BY_ONE: Readonly<Record<string, string>> = {
  'identity.linked': IDENTITY_KEY,
  'customer.profile': IDENTITY_KEY,
  'customer.arrived': IDENTITY_KEY,
  'service.requested': IDENTITY_KEY,
  'kiosk.identified': KIOSKS_KEY,
  'customer.erased': IDENTITY_KEY,
  'customer.forgotten': IDENTITY_KEY,
};

/** The partition key of a customer event, of an internal step, or of a followed event. */
export function customerPartitionKey(ev: InputEvent): string {
  const field = KEYED_BY[ev.type];
  if (field !== undefined) return ev[field] as string;
  if (ev.type === 'rec.item' || ev.type === 'rec.indexed' || ev.type === 'rec.unindex') return itemKey(ev.sku as string);
  return OWNED_BY_ONE[ev.type] ?? KIOSKS_KEY;
}

export function customerProcessor(options: CustomerOptions = {}): Processor {
  const o = resolveCustomerOptions(options);
  return {
    name: 'customers',
    types: Object.keys(CUSTOMER_EVENT_FIELDS),
    // `recs/<customer>` and `loyalty/<customer>` are its state topics; `kiosk/<kiosk>` carries messages only (an event topic).
    topicPrefixes: ['recs/', 'loyalty/'],
    schemas: CUSTOMER_EVENT_FIELDS,
    internalTypes: INTERNAL_TYPES,
    partitionKey: customerPartitionKey,
    // The service domain reads who a subject is, and the customer's tier.
    readByOthers: ['identity.linked', 'customer.profile'],
    // An erasure's steps must not run ahead of the events sent before it in one submission (an
    // order naming the customer, applied after the erasure, would keep its id).
    stepsElsewhere: ['customer.erased'],
    // A refund finds its redemption through the index the redemption writes on the redemption's
    // partition: sent in one request after its redemption, it waits for the redemption's answer.
    readsEarlier: ['loyalty.refunded'],
    follows: FOLLOWED,

    apply(view, ev, ctx) {
      return (HANDLERS[ev.type] ?? STEPS[ev.type])(new StagedState(view), ev, ctx, o);
    },

    onFollowed(view, ev, outcome, ctx) {
      return followEvent(new StagedState(view), ev, outcome, ctx, o);
    },

    // A stock change matters only for a SKU some kiosk shows (kiosks.ts): asked where the stock
    // changed, it spares every other stock event the hop here.
    followsWhen(view, ev, outcome) {
      if (!ev.type.startsWith('stock.')) return true;
      return skusChanged(outcome.changed).some((sku) => isShown(view, sku));
    },

    query(view, name, args) {
      if (name === 'orders') return customerOrders(view, args.subject as string, o.ordersKept);
      if (name === 'export') return customerExport(view, args.subject as string);
      if (name !== 'recommendations') return undefined;
      const location = args.location as string | undefined;
      if (location !== undefined && !isLocation(view, location)) return { error: 'unknown_location' };
      return recommendations(view, args.subject as string, location, args.limit as number, o) ?? { error: 'not_found' };
    },

    onTimer(view, timer, ctx) {
      return timer.id.startsWith('loyalty/') ? expireLots(new StagedState(view), timer, ctx.now) : {};
    },

    render(view, topic) {
      if (topic.startsWith('loyalty/')) return renderLoyalty(view, topic.slice('loyalty/'.length), o.vipPoints);
      return recommendations(view, topic.slice('recs/'.length), undefined, o.listSize, o);
    },
  };
}

export interface Recommendations {
  customer: string;
  items: Array<{ sku: string; score: number }>;
}

/**
 * `recs/<customer>` and `GET /v1/customers/:subject/recommendations`: the ranked next items of
 * the customer's current session, without SKUs known to have nothing available at `location`
 * (anywhere, without one). Undefined for a subject never seen.
 */
export function recommendations(
  view: StateView,
  subject: string,
  location: string | undefined,
  limit: number,
  options: ResolvedCustomerOptions | CustomerOptions = {},
): Recommendations | undefined {
  const customer = customerNamed(view, subject);
  if (customer === undefined) return undefined;
  return { customer, items: listFor(view, customer, location, limit, options.recommender) };
}
