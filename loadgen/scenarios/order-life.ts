// What happens to an order after it is placed, decided when it is placed: the steps the run will
// send for it (each at least the follow-up lag after the one before) and the status they leave
// it in. The shares are a mid-sized fashion and home retailer's: most pickup orders are picked
// and collected, a few are cancelled or never collected (those expire by the server's pickup
// hold, the run sends nothing); online orders come back more often than store pickups, and most
// returns are made at a store, often another one than the order was collected at.

import type { InputEvent } from '../../engine/mod.ts';
import type { Site } from './geography.ts';

/** A pickup order the customer cancels before the store has picked it. */
export const PICKUP_CANCELLED_EARLY = 0.04;
/** Of the pickup orders that were made ready: cancelled at the store, then never collected (they expire); the rest are picked up. */
export const READY_CANCELLED = 0.04;
export const READY_UNCOLLECTED = 0.05;
/** A ship order cancelled before it left. */
export const SHIP_CANCELLED = 0.03;
/** Orders returned in part or whole after they were collected / delivered. */
export const PICKUP_RETURNED = 0.08;
export const SHIP_RETURNED = 0.15;
/** A return made at another store than the order's own (pickup) store; for a ship order, the share of returns at a store rather than by post to a warehouse. */
export const RETURN_ELSEWHERE = 0.6;
export const SHIP_RETURN_AT_STORE = 0.7;
/** A return of one unit of one line rather than the whole order. */
export const PARTIAL_RETURN = 0.25;

const CARRIERS = ['dhl', 'dpd', 'hermes', 'ups'] as const;

export type StepType = 'order.ready' | 'order.picked_up' | 'order.shipped' | 'order.delivered' | 'order.cancelled' | 'order.returned';

/** One step of an order's life, still without an event id. */
export type Step = { type: StepType } & Record<string, unknown>;

export interface OrderPlan {
  steps: Step[];
  /** The status the run's steps leave the order in (`expired` for one left uncollected: the server's pickup hold decides). */
  end: string;
}

export interface PlacedOrder {
  order: string;
  lines: Array<{ sku: string; qty: number }>;
  /** The pickup store, for a pickup order. */
  pickup?: Site;
  /** A unique return id for this order. */
  returnId: string;
}

export interface Places {
  store(rand: () => number): Site;
  warehouse(rand: () => number): Site;
}

/** The life of a just-placed order: its follow-up steps in order, and where they leave it. */
export function planOrder(o: PlacedOrder, places: Places, rand: () => number): OrderPlan {
  const { order } = o;
  if (o.pickup !== undefined) {
    if (rand() < PICKUP_CANCELLED_EARLY) return { steps: [{ type: 'order.cancelled', order, reason: 'customer' }], end: 'cancelled' };
    const ready: Step = { type: 'order.ready', order };
    const u = rand();
    if (u < READY_CANCELLED) return { steps: [ready, { type: 'order.cancelled', order, reason: 'customer' }], end: 'cancelled' };
    if (u < READY_CANCELLED + READY_UNCOLLECTED) return { steps: [ready], end: 'expired' };
    const collected: Step[] = [ready, { type: 'order.picked_up', order }];
    if (rand() >= PICKUP_RETURNED) return { steps: collected, end: 'completed' };
    const at = rand() < RETURN_ELSEWHERE ? otherStore(o.pickup, places, rand) : o.pickup;
    return withReturn(o, collected, at, 'store', rand);
  }
  if (rand() < SHIP_CANCELLED) return { steps: [{ type: 'order.cancelled', order, reason: 'customer' }], end: 'cancelled' };
  const carrier = CARRIERS[Math.floor(rand() * CARRIERS.length)];
  const delivered: Step[] = [
    { type: 'order.shipped', order, carrier, tracking: `${carrier}-${Math.floor(rand() * 1e10)}` },
    { type: 'order.delivered', order },
  ];
  if (rand() >= SHIP_RETURNED) return { steps: delivered, end: 'completed' };
  return rand() < SHIP_RETURN_AT_STORE ? withReturn(o, delivered, places.store(rand), 'store', rand) : withReturn(o, delivered, places.warehouse(rand), 'web', rand);
}

function withReturn(o: PlacedOrder, before: Step[], at: Site, channel: string, rand: () => number): OrderPlan {
  const partial = o.lines.length > 1 && rand() < PARTIAL_RETURN;
  const lines = partial ? [{ sku: o.lines[Math.floor(rand() * o.lines.length)].sku, qty: 1 }] : o.lines.map(({ sku, qty }) => ({ sku, qty }));
  const step: Step = { type: 'order.returned', return: o.returnId, order: o.order, lines, location: at.id, channel, reason: partial ? 'size' : 'changed_mind' };
  return { steps: [...before, step], end: partial ? 'partially_returned' : 'returned' };
}

/** Another store than `not`, when the chain has one. */
function otherStore(not: Site, places: Places, rand: () => number): Site {
  for (let tries = 0; tries < 8; tries++) {
    const s = places.store(rand);
    if (s.id !== not.id) return s;
  }
  return not;
}

/** The event of a step, as event number `id`. */
export function stepEvent(step: Step, id: string): InputEvent {
  return { id, ...step } as InputEvent;
}
