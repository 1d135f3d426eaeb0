// One handler per stock event type. Each reads through its StockChange and either returns
// the change's effects or a rejection (and then nothing it staged is written).

import { rejection as errorResult, type ErrorCode } from '../errors.ts';
import type { Effects, EventContext, InputEvent } from '../types.ts';
import { allocateShipment, haversineKm, type Candidate } from './allocation.ts';
import type { StockChange } from './change.ts';
import { availableAt, keys, type AllocationLine, type Location, type Order, type Reservation } from './types.ts';

type Handler = (c: StockChange, ev: InputEvent, ctx: EventContext, ttlMs: number) => Effects;

const rejection = (code: ErrorCode, message: string): Effects => ({ result: errorResult(code, message) });

const unknownLocation = (id: string) => rejection('unknown_location', `location '${id}' has not been declared`);
/** `available` is what the event could have had: at its location, or where it would be taken from. */
const insufficient = (sku: string, location: string | undefined, wanted: number, available: number, detail = ''): Effects => ({
  result: {
    ok: false,
    error: {
      code: 'insufficient_stock',
      message: `${wanted} × ${sku} wanted${location ? ` at ${location}` : ''}, ${available} available${detail}`,
      wanted,
      available,
    },
  },
});

const timerId = (reservation: string) => `res/${reservation}`;

function onHandDelta(sign: 1 | -1): Handler {
  return (c, ev) => {
    const sku = ev.sku as string;
    const location = ev.location as string;
    if (!c.location(location)) return unknownLocation(location);
    const qty = ev.qty as number;
    const onHand = c.change(sku, location, { onHand: sign * qty });
    if (sign < 0 && onHand < 0) {
      c.alert({ type: 'discrepancy', sku, location, onHand, qty, channel: ev.channel ?? null });
    }
    return c.effects();
  };
}

function setField(field: 'onHand' | 'safety'): Handler {
  return (c, ev) => {
    const location = ev.location as string;
    if (!c.location(location)) return unknownLocation(location);
    const value = ev[field] as number;
    c.change(ev.sku as string, location, field === 'onHand' ? { setOnHand: value } : { setSafety: value });
    return c.effects();
  };
}

/** Stages a hold of `qty` at `location`; the caller has checked availability. */
function hold(c: StockChange, res: Reservation): void {
  c.change(res.sku, res.location, { reserved: res.qty });
  c.put(keys.reservation(res.id), res);
  if (res.expiresAt !== undefined) c.setTimer({ id: timerId(res.id), at: res.expiresAt, data: { reservation: res.id } });
}

/** Ends a hold: `sold` also takes the goods off the shelf. */
export function endHold(c: StockChange, res: Reservation, sold: boolean): void {
  c.change(res.sku, res.location, { reserved: -res.qty, onHand: sold ? -res.qty : 0 });
  c.put(keys.reservation(res.id), undefined);
  if (res.expiresAt !== undefined) c.cancelTimer(timerId(res.id));
}

const reserve: Handler = (c, ev, ctx, defaultTtl) => {
  const id = ev.reservation as string;
  const existing = c.view.get<Reservation>(keys.reservation(id));
  if (existing && (existing.order || !expired(existing, ctx.now))) {
    return rejection('conflict', `reservation '${id}' already exists`);
  }
  // An expired hold whose timer has not run yet ends now, as the timer would end it.
  if (existing) endHold(c, existing, false);
  const sku = ev.sku as string;
  const qty = ev.qty as number;
  // An optional field sent as null counts as absent.
  let location = (ev.location ?? undefined) as string | undefined;
  if (location !== undefined) {
    if (!c.location(location)) return unknownLocation(location);
    const have = c.available(sku, location);
    if (have < qty) return insufficient(sku, location, qty, have);
  } else {
    // No location: the one with the most available, so a hold leaves the most elsewhere.
    let best = 0;
    let most = 0;
    let total = 0;
    const state = c.skuState(sku);
    for (let i = 0; state && i < state.locations.length; i++) {
      const a = availableAt(state, i);
      const loc = state.locations[i];
      most = Math.max(most, a);
      total += a;
      if (a >= qty && (a > best || (a === best && location !== undefined && loc < location))) {
        best = a;
        location = loc;
      }
    }
    // A hold is taken at one location: what counts is the most any one of them has.
    if (location === undefined) return insufficient(sku, undefined, qty, most, total > most ? ` at any one location (${total} in all)` : '');
  }
  const expiresAt = ctx.now + Math.round((ev.ttlMs as number | undefined) ?? defaultTtl);
  const channel = (ev.channel ?? undefined) as string | undefined;
  hold(c, { id, sku, location, qty, expiresAt, ...(channel ? { channel } : {}) });
  return c.effects({ reservation: id, location, expiresAt });
};

/** Past its expiry but not yet released by its timer (which may be queued behind events). */
const expired = (res: Reservation, now: number) => res.expiresAt !== undefined && res.expiresAt <= now;

function endReservation(sold: boolean): Handler {
  return (c, ev, ctx) => {
    const id = ev.reservation as string;
    const res = c.view.get<Reservation>(keys.reservation(id));
    if (!res) return rejection('unknown_reservation', `no active reservation '${id}'`);
    if (sold && expired(res, ctx.now)) return rejection('unknown_reservation', `reservation '${id}' expired`);
    if (res.order) {
      return rejection('conflict', `reservation '${id}' belongs to order '${res.order}'; fulfil or cancel the order`);
    }
    endHold(c, res, sold);
    return c.effects({ reservation: id });
  };
}

const transfer: Handler = (c, ev) => {
  const { sku, from, to, qty } = ev as unknown as { sku: string; from: string; to: string; qty: number };
  if (!c.location(from)) return unknownLocation(from);
  if (!c.location(to)) return unknownLocation(to);
  const have = c.available(sku, from);
  if (have < qty) return insufficient(sku, from, qty, have);
  c.change(sku, from, { onHand: -qty });
  c.change(sku, to, { onHand: qty });
  return c.effects({ transfer: ev.transfer });
};

function mergeLines(lines: Array<{ sku: string; qty: number }>): Array<{ sku: string; qty: number }> {
  const bySku = new Map<string, number>();
  for (const l of lines) bySku.set(l.sku, (bySku.get(l.sku) ?? 0) + l.qty);
  return [...bySku].map(([sku, qty]) => ({ sku, qty }));
}

const placeOrder: Handler = (c, ev, ctx) => {
  const orderId = ev.order as string;
  if (c.view.get(keys.order(orderId))) return rejection('conflict', `order '${orderId}' already exists`);
  const lines = mergeLines(ev.lines as Array<{ sku: string; qty: number }>);
  let plan: Array<{ sku: string; qty: number; location: string }>;
  if (ev.pickup != null) {
    const store = ev.pickup as string;
    const loc = c.location(store);
    if (!loc) return unknownLocation(store);
    if (loc.kind !== 'store') return rejection('invalid_event', `pickup location '${store}' is a ${loc.kind}, not a store`);
    for (const l of lines) {
      const have = c.available(l.sku, store);
      if (have < l.qty) return insufficient(l.sku, store, l.qty, have);
    }
    plan = lines.map((l) => ({ ...l, location: store }));
  } else {
    const ship = ev.ship as { lat: number; lon: number };
    const candidates = new Map<string, Candidate>();
    for (const l of lines) {
      const state = c.skuState(l.sku);
      for (let i = 0; state && i < state.locations.length; i++) {
        const a = availableAt(state, i);
        const locId = state.locations[i];
        if (a <= 0) continue;
        let cand = candidates.get(locId);
        if (!cand) {
          const loc = c.location(locId) as Location;
          cand = { id: locId, km: haversineKm(ship.lat, ship.lon, loc.lat, loc.lon), available: new Map() };
          candidates.set(locId, cand);
        }
        cand.available.set(l.sku, a);
      }
    }
    const found = allocateShipment([...candidates.values()], lines);
    if (!found) {
      const short = lines.find((l) => {
        let sum = 0;
        for (const cand of candidates.values()) sum += cand.available.get(l.sku) ?? 0;
        return sum < l.qty;
      })!;
      let have = 0;
      for (const cand of candidates.values()) have += cand.available.get(short.sku) ?? 0;
      return insufficient(short.sku, undefined, short.qty, have);
    }
    plan = found;
  }
  const allocation: AllocationLine[] = [];
  for (let i = 0; i < plan.length; i++) {
    const reservation = `order:${orderId}:${i}`;
    if (c.view.get(keys.reservation(reservation))) return rejection('conflict', `reservation '${reservation}' already exists`);
    hold(c, { id: reservation, sku: plan[i].sku, location: plan[i].location, qty: plan[i].qty, order: orderId });
    allocation.push({ ...plan[i], reservation });
  }
  const order: Order = {
    id: orderId,
    status: 'placed',
    lines,
    allocation,
    placedAt: ctx.eventTime,
    ...(ev.customer ? { customer: ev.customer as string } : {}),
    ...(ev.pickup != null ? { pickup: ev.pickup as string } : { ship: ev.ship as { lat: number; lon: number } }),
  };
  c.put(keys.order(orderId), order);
  return c.effects({ order: orderId, allocation });
};

function closeOrder(status: 'fulfilled' | 'cancelled'): Handler {
  return (c, ev) => {
    const orderId = ev.order as string;
    const order = c.view.get<Order>(keys.order(orderId));
    if (!order) return rejection('not_found', `no order '${orderId}'`);
    if (order.status !== 'placed') return rejection('conflict', `order '${orderId}' is already ${order.status}`);
    for (const a of order.allocation) {
      const res = c.view.get<Reservation>(keys.reservation(a.reservation));
      if (res) endHold(c, res, status === 'fulfilled');
    }
    c.put(keys.order(orderId), { ...order, status });
    return c.effects({ order: orderId, status });
  };
}

const upsertLocation: Handler = (c, ev) => {
  const id = ev.location as string;
  const loc: Location = {
    id,
    kind: ev.kind as Location['kind'],
    lat: ev.lat as number,
    lon: ev.lon as number,
    ...(ev.name != null ? { name: ev.name as string } : {}),
    ...(ev.lowStock != null ? { lowStock: ev.lowStock as number } : {}),
  };
  c.put(keys.location(id), loc);
  // Rare next to stock moves, so a whole-list copy per new location costs nothing that matters.
  // Locations are never removed: the index only grows.
  const index = c.view.get<string[]>(keys.locationIndex) ?? [];
  if (!index.includes(id)) c.put(keys.locationIndex, [...index, id]);
  return c.effects();
};

export const HANDLERS: Record<string, Handler> = {
  'location.upserted': upsertLocation,
  'stock.received': onHandDelta(1),
  'stock.returned': onHandDelta(1),
  'stock.sold': onHandDelta(-1),
  'stock.adjusted': setField('onHand'),
  'stock.safety': setField('safety'),
  'stock.reserve': reserve,
  'stock.release': endReservation(false),
  'stock.commit': endReservation(true),
  'stock.transfer': transfer,
  'order.placed': placeOrder,
  'order.fulfilled': closeOrder('fulfilled'),
  'order.cancelled': closeOrder('cancelled'),
};
