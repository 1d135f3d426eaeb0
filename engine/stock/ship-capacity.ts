// Ship sourcing a retailer can steer: a location declared `ships: false` never sends a ship order
// (it still serves pickups), and one with `shipCapacity` takes at most that many ship orders per
// UTC day of the orders' event time. Among the locations left, allocateShipment picks the fewest,
// then the nearest.
//
// A day's counter (`stock/shipcap/<location>/<day>`) is shared by every order, so one partition,
// SHIP_CAPACITY_OWNER's, writes them all and decides every claim. The order's partition asks it in
// two more steps of the placing saga (order-saga.ts), taken only when a location that could send
// the order has a capacity — an order without one pays nothing extra:
//
//   order.quoted (last) → stock.shiproom {locations}   to the capacity owner: which are full that day
//   order.shiproom      → plan without the full ones, then stock.shipclaim {the chosen that count}
//   stock.shipclaim     → all or none: every one still has room → +1 each; else refused
//   order.shipclaimed   → taken: the slots are kept on the order and the holds asked; refused (a
//                         race for the last slot): the order is refused insufficient_stock, having
//                         held nothing
//   stock.shipfree      → −1 each: an order refused after its claim (a hold refused), or a ship
//                         order cancelled, gives its slots back to their day
//
// The claim comes before the holds: a refused claim then has no stock to give back, and no other
// order sees stock held by an order that cannot ship.

import type { EventError, InputEvent } from '../types.ts';
import { allocateShipment, haversineKm, type Candidate } from './allocation.ts';
import type { StockChange } from './change.ts';
import { insufficientError, type Handler } from './outcomes.ts';
import { keys, type Location, type OrderRecord, type OrderSaga, type ShipSlots } from './types.ts';

type PlanLine = { sku: string; qty: number; location: string };
type Quotes = NonNullable<OrderSaga['quotes']>;
type Placing = { order: OrderRecord; saga: OrderSaga };
/** The rest of a step's arguments (Handler), passed on to the saga as they came. */
type StepContext = [ctx: Parameters<Handler>[2], settings: Parameters<Handler>[3]];

/** What the placing saga lends these steps (order-saga.ts), so that it stays the one place that ends a placing. */
export interface PlacingSteps {
  /** The order placing under the step's `origin`, or undefined for a step of a saga that is over. */
  placing(c: StockChange, ev: InputEvent): Placing | undefined;
  /** Why the plan's reservation ids cannot be the order's, if they cannot. */
  taken(c: StockChange, orderId: string, plan: PlanLine[]): EventError | undefined;
  /** Asks a hold per plan line, the order's record (as given) waiting for them. */
  askHolds(c: StockChange, order: OrderRecord, saga: OrderSaga, plan: PlanLine[]): void;
  /** Ends a placing that holds nothing: answered `error` (unless answered already), record gone. */
  refuse(c: StockChange, order: OrderRecord, saga: OrderSaga, error: EventError | undefined, ...step: StepContext): void;
}

/** The UTC day (`YYYY-MM-DD`, or `+YYYYYY-MM-DD` past year 9999) of an event time. */
export function shipDay(eventTime: number): string {
  const iso = new Date(eventTime).toISOString();
  return iso.slice(0, iso.indexOf('T'));
}

const ships = (loc: Location | undefined): loc is Location => loc !== undefined && loc.ships !== false;
const counts = (loc: Location | undefined) => ships(loc) && loc.shipCapacity !== undefined;
const used = (c: StockChange, location: string, day: string) => c.view.get<number>(keys.shipCapacity(location, day)) ?? 0;

function hasRoom(c: StockChange, location: string, day: string): boolean {
  const capacity = c.location(location)?.shipCapacity;
  return capacity === undefined || used(c, location, day) < capacity;
}

/** Every location the quotes name, once, in the order they name them. */
function quotedLocations(quotes: Quotes): string[] {
  const seen = new Set<string>();
  for (const rows of quotes) for (const [location] of rows!) seen.add(location);
  return [...seen];
}

/**
 * Called once every quote is in: when a location that could send the order has a shipCapacity,
 * asks the capacity owner which are full and returns true (the saga waits for order.shiproom);
 * false when none has one (the order is planned now, as before capacities existed).
 */
export function askShipRoom(c: StockChange, order: OrderRecord, saga: OrderSaga & { quotes: Quotes }): boolean {
  const limited = quotedLocations(saga.quotes).filter((id) => counts(c.location(id)));
  if (limited.length === 0) return false;
  const origin = saga.event.id;
  c.emit({ id: `${origin}/shiproom`, type: 'stock.shiproom', order: order.id, origin, day: shipDay(order.placedAt), locations: limited });
  c.put(keys.order(order.id), { ...order, saga: { ...saga, shipping: 'room' } });
  return true;
}

/**
 * The allocation a single partition reading every SKU at once would make from the locations that
 * ship and are not `full`, or (answered) why none: the message says when full ones had the stock.
 */
export function shipPlan(c: StockChange, order: OrderRecord, quotes: Quotes, full: ReadonlySet<string> = new Set()): PlanLine[] | undefined {
  const ship = order.ship!;
  const candidates = new Map<string, Candidate>();
  const passedOver = new Set<string>();
  order.lines.forEach((l, i) => {
    for (const [locId, available] of quotes[i]!) {
      let cand = candidates.get(locId);
      if (!cand) {
        const loc = c.location(locId);
        if (!ships(loc)) continue;
        if (full.has(locId)) {
          passedOver.add(locId);
          continue;
        }
        cand = { id: locId, km: haversineKm(ship.lat, ship.lon, loc.lat, loc.lon), available: new Map() };
        candidates.set(locId, cand);
      }
      cand.available.set(l.sku, available);
    }
  });
  const plan = allocateShipment([...candidates.values()], order.lines);
  if (!plan) {
    const have = (sku: string) => [...candidates.values()].reduce((sum, cand) => sum + (cand.available.get(sku) ?? 0), 0);
    const short = order.lines.find((l) => have(l.sku) < l.qty) ?? order.lines[0];
    const detail = passedOver.size > 0 ? ` to ship: the shipping capacity of ${[...passedOver].join(', ')} ran out for ${shipDay(order.placedAt)}` : '';
    c.answer(order.saga!.event.id, { ok: false, error: insufficientError(short.sku, undefined, short.qty, have(short.sku), detail) });
  }
  return plan;
}

/** Why a claim is refused: another order's claim took the location's last slot of the day first. */
function capacityRanOut(location: string, day: string): EventError {
  return { code: 'insufficient_stock', message: `the shipping capacity of ${location} ran out for ${day} (another order took the last slot)` };
}

/** Gives back the slots `order` took, if any: called when it is refused after its claim, or cancelled. */
export function freeShipSlots(c: StockChange, order: OrderRecord, cause: string): void {
  const slots = order.shipSlots;
  if (slots) c.emit({ id: `${cause}/shipfree`, type: 'stock.shipfree', order: order.id, day: slots.day, locations: slots.locations });
}

/** The order-side steps: the capacity owner's answers, at the order's partition. */
export function shipSourcingSteps(saga: PlacingSteps): Record<string, Handler> {
  const roomed: Handler = (c, ev, ...step) => {
    const found = saga.placing(c, ev);
    // A stale or repeated answer: the saga has moved on.
    if (found?.saga.shipping !== 'room') return c.effects();
    const { order, saga: placing } = found;
    const plan = shipPlan(c, order, placing.quotes!, new Set(ev.full as string[]));
    const taken = plan ? saga.taken(c, order.id, plan) : undefined;
    if (!plan || taken) {
      saga.refuse(c, order, placing, taken, ...step);
      return c.effects();
    }
    const limited = [...new Set(plan.map((p) => p.location))].filter((id) => counts(c.location(id)));
    if (limited.length === 0) {
      saga.askHolds(c, order, placing, plan);
      return c.effects();
    }
    const origin = placing.event.id;
    c.emit({ id: `${origin}/shipclaim`, type: 'stock.shipclaim', order: order.id, origin, day: shipDay(order.placedAt), locations: limited });
    c.put(keys.order(order.id), { ...order, saga: { ...placing, shipping: 'claim', plan } });
    return c.effects();
  };

  const claimed: Handler = (c, ev, ...step) => {
    const found = saga.placing(c, ev);
    // Only the claim's one answer moves the saga past 'claim': anything else is stale or repeated.
    if (found?.saga.shipping !== 'claim') return c.effects();
    const { order, saga: placing } = found;
    if (ev.full !== undefined) {
      saga.refuse(c, order, placing, capacityRanOut(ev.full as string, ev.day as string), ...step);
      return c.effects();
    }
    const slots = ev.slots as string[];
    const withSlots: OrderRecord = slots.length > 0 ? { ...order, shipSlots: { day: ev.day as string, locations: slots } } : order;
    saga.askHolds(c, withSlots, placing, placing.plan!);
    return c.effects();
  };

  return { 'order.shiproom': roomed, 'order.shipclaimed': claimed };
}

/** Which of the asked locations have no room left that day. */
const room: Handler = (c, ev) => {
  const day = ev.day as string;
  const full = (ev.locations as string[]).filter((id) => !hasRoom(c, id, day));
  c.emit({ id: `${ev.id}/reply`, type: 'order.shiproom', order: ev.order, origin: ev.origin, full });
  return c.effects();
};

/**
 * Takes a slot at each location that still has a capacity, all or none: the one partition that
 * writes the counters applies claims one at a time, so of two orders racing for the last slot the
 * first claim applied gets it and the other is refused.
 */
const claim: Handler = (c, ev) => {
  const day = ev.day as string;
  // A capacity dropped since the room was asked counts no more.
  const limited = (ev.locations as string[]).filter((id) => counts(c.location(id)));
  const full = limited.find((id) => !hasRoom(c, id, day));
  if (full === undefined) for (const id of limited) c.put(keys.shipCapacity(id, day), used(c, id, day) + 1);
  const answer = full === undefined ? { slots: limited } : { full };
  c.emit({ id: `${ev.id}/reply`, type: 'order.shipclaimed', order: ev.order, origin: ev.origin, day, ...answer });
  return c.effects();
};

/** Gives slots back to their day; a counter back at zero is removed rather than kept as 0. */
const free: Handler = (c, ev) => {
  const { day, locations } = ev as unknown as ShipSlots;
  for (const id of locations) {
    const n = used(c, id, day);
    if (n > 0) c.put(keys.shipCapacity(id, day), n > 1 ? n - 1 : undefined);
  }
  return c.effects();
};

/** The capacity owner's steps (SHIP_CAPACITY_OWNER's partition). */
export const SHIP_CAPACITY_STEPS: Record<string, Handler> = {
  'stock.shiproom': room,
  'stock.shipclaim': claim,
  'stock.shipfree': free,
};

/** The saga types these steps add: never accepted from a sender. */
export const SHIP_CAPACITY_TYPES = ['stock.shiproom', 'stock.shipclaim', 'stock.shipfree', 'order.shiproom', 'order.shipclaimed'];
