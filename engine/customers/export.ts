// What the customer domain holds about one customer, for the data-subject export
// (GET /v1/customers/:subject): its ids, profile, the identity log that explains them, every
// session log kept under any of its names, what kiosks show it, its orders, and its loyalty
// points with the coupons restricted to it.
// A pure read of committed state; the gateway adds each order in full (the stock domain's) and
// the service requests (the service domain's).

import type { StateView } from '../types.ts';
import { profileOf, type CustomerProfile } from './context.ts';
import { customerRecord, explain, resolveCustomer, type LogEntry } from './identity/mod.ts';
import { olderOrderSummaries, recentOrders } from './orders.ts';
import { sessionItems, type ActivityKind } from './recommender/mod.ts';
import { currentSession, keptSessions } from './sessions.ts';
import { kiosksShowing } from './kiosks.ts';
import type { KioskDisplay, OrderSummary } from './types.ts';
import { couponRecord, type CouponRecord } from './coupons.ts';
import { loyaltyExport, type LoyaltyExport } from './loyalty.ts';
import { keepsState } from './route.ts';

export interface SessionExport {
  session: string;
  /** The customer's open session: its next activity within the gap joins it. */
  current?: true;
  activity: Array<{ sku: string; kind: ActivityKind; time: number }>;
}

export interface CustomerExport {
  customer: string;
  ids: string[];
  profile: CustomerProfile;
  /** Why its ids are joined: creations, merges and refused links, oldest first. */
  identityLog: LogEntry[];
  sessions: SessionExport[];
  /** What each kiosk identifying the customer shows it now. */
  kiosks: KioskDisplay[];
  /** Its kept summaries, then its older orders (kept by id only), each newest first; the gateway shows each in full. */
  orders: OrderSummary[];
  /** Its loyalty points, their history and the coupons restricted to it (each as issued and used so far); absent when it never had any. */
  loyalty?: LoyaltyExport & { coupons: Array<{ coupon: string } & Partial<CouponRecord>> };
}

/** Undefined when the subject names no customer known here. */
export function customerExport(view: StateView, subject: string): CustomerExport | undefined {
  // A customer known only by its activity, orders or points is named by the id they came under.
  const customer = resolveCustomer(view, subject) ?? (keepsState(view, subject) ? subject : undefined);
  if (customer === undefined) return undefined;
  const record = customerRecord(view, customer);
  const identityLog = record === undefined ? [] : explain(view, customer);
  const merged = identityLog.filter((e) => e.kind === 'merged' && e.from !== undefined).map((e) => e.from!);
  const names = [...new Set([customer, ...(record?.ids ?? []), ...merged])];
  return {
    customer,
    ids: record?.ids ?? [customer],
    profile: profileOf(record),
    identityLog,
    sessions: sessionsOf(view, customer, names),
    kiosks: kiosksShowing(view, names),
    orders: ordersOf(view, customer),
    ...loyaltyOf(view, customer),
  };
}

function ordersOf(view: StateView, customer: string): OrderSummary[] {
  const recent = recentOrders(view, customer);
  const kept = new Set(recent.map((o) => o.order));
  return [...recent, ...olderOrderSummaries(view, customer).filter((o) => !kept.has(o.order))];
}

/** The loyalty part, each coupon restricted to the customer with its record (kept on the coupon's partition). */
function loyaltyOf(view: StateView, customer: string): Pick<CustomerExport, 'loyalty'> {
  const { loyalty } = loyaltyExport(view, customer);
  if (loyalty === undefined) return {};
  return { loyalty: { ...loyalty, coupons: loyalty.coupons.map(({ coupon }) => ({ coupon, ...couponRecord(view, coupon) })) } };
}

/**
 * Every session log kept under the customer's names. A merge copies the merged-away customer's
 * open session into the survivor's, and leaves the original for the recommender's neighbours:
 * activity already listed (same SKU, kind and time) is left out of a name's sessions, so each
 * activity is exported once.
 */
function sessionsOf(view: StateView, customer: string, names: readonly string[]): SessionExport[] {
  const out: SessionExport[] = [];
  const seen = new Set<string>();
  const current = currentSession(view, customer);
  for (const name of names) {
    for (const { id: session } of keptSessions(view, name)) {
      const activity = sessionItems(view, session).filter((a) => {
        const key = JSON.stringify([a.sku, a.kind, a.time]);
        const again = name !== customer && seen.has(key);
        seen.add(key);
        return !again;
      });
      if (activity.length === 0) continue;
      out.push({ session, ...(current?.id === session ? { current: true as const } : {}), activity });
    }
  }
  return out;
}
