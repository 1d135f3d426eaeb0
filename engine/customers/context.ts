// What the customer domain adds to a service offer's 360 context: the linked identities, the
// latest activity and the recent orders. Bounded, so an offer stays a small message.

import type { StateView } from '../types.ts';
import { customerRecord, resolveCustomer, type CustomerRecord } from './identity/mod.ts';
import { recentOrders } from './orders.ts';
import { sessionItems } from './recommender/mod.ts';
import { currentSession } from './sessions.ts';

const IDS_SHOWN = 20;
const ACTIVITY_SHOWN = 10;
const ORDERS_SHOWN = 10;

export function customer360(view: StateView, name: string): Record<string, unknown> {
  // Any id of the customer, or a merged-away name: the survivor's context.
  const customer = resolveCustomer(view, name) ?? name;
  const record = customerRecord(view, customer);
  const session = currentSession(view, customer);
  const activity = session ? sessionItems(view, session.id).slice(-ACTIVITY_SHOWN).reverse() : [];
  const ids = record?.ids ?? [];
  return {
    ids: ids.slice(0, IDS_SHOWN),
    ...(ids.length > IDS_SHOWN ? { idsTotal: ids.length } : {}),
    activity,
    orders: recentOrders(view, customer).slice(0, ORDERS_SHOWN),
  };
}

/** Tier and language as the service domain routes by them. */
export function customerProfile(view: StateView, customer: string): CustomerProfile | undefined {
  const record = customerRecord(view, customer);
  return record === undefined ? undefined : profileOf(record);
}

export interface CustomerProfile {
  tier: 'standard' | 'vip';
  language?: string;
}

/** The profile an identity record holds (no record: a standard customer). */
export function profileOf(record: Pick<CustomerRecord, 'tier' | 'language'> | undefined): CustomerProfile {
  return { tier: record?.tier ?? 'standard', ...(record?.language ? { language: record.language } : {}) };
}
