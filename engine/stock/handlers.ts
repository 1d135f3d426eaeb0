// One handler per stock event type. Each reads through its StockChange and either returns
// the change's effects or a rejection (and then nothing it staged is written). The events of one
// key are here; reservations and orders, whose work spans partitions, are sagas of their own
// (reservations.ts, order-saga.ts, order-lifecycle.ts) over the steps at each SKU (holds.ts).

import { SKU_STEPS } from './holds.ts';
import { LIFECYCLE_STEPS } from './order-lifecycle.ts';
import type { StoreNoticeEvent } from './order-news.ts';
import { RESTOCK_STEPS } from './order-returns.ts';
import { PLACING_STEPS } from './order-saga.ts';
import { FORGET_STEPS, FORGET_TYPES } from './order-forget.ts';
import { insufficient, unknownLocation, type Handler } from './outcomes.ts';
import { RESERVATION_STEPS } from './reservations.ts';
import { SHIP_CAPACITY_STEPS, SHIP_CAPACITY_TYPES } from './ship-capacity.ts';
import { keys, topics, type Location } from './types.ts';

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

const upsertLocation: Handler = (c, ev) => {
  const id = ev.location as string;
  const loc: Location = {
    id,
    kind: ev.kind as Location['kind'],
    lat: ev.lat as number,
    lon: ev.lon as number,
    ...(ev.name != null ? { name: ev.name as string } : {}),
    ...(ev.lowStock != null ? { lowStock: ev.lowStock as number } : {}),
    ...(ev.ships === false ? { ships: false } : {}),
    ...(ev.shipCapacity != null ? { shipCapacity: ev.shipCapacity as number } : {}),
  };
  c.put(keys.location(id), loc);
  // Rare next to stock moves, so a whole-list copy per new location costs nothing that matters.
  // Locations are never removed: the index only grows.
  const index = c.view.get<string[]>(keys.locationIndex) ?? [];
  if (!index.includes(id)) c.put(keys.locationIndex, [...index, id]);
  return c.effects();
};

/** Publishes an alert a SKU's step raised (StockChange.alert), at the one partition that does. */
const publishAlert: Handler = (_c, ev) => ({ result: { ok: true }, messages: [{ topic: topics.alerts, data: ev.alert }] });

/** Publishes a notice to a store's associates, at the partition of its topic (one seq counter). */
const publishNotice: Handler = (_c, ev) => {
  const { location, notice } = ev as StoreNoticeEvent;
  return { result: { ok: true }, messages: [{ topic: topics.store(location), data: notice }] };
};

export const HANDLERS: Record<string, Handler> = {
  'location.upserted': upsertLocation,
  'stock.received': onHandDelta(1),
  'stock.returned': onHandDelta(1),
  'stock.sold': onHandDelta(-1),
  'stock.adjusted': setField('onHand'),
  'stock.safety': setField('safety'),
  'stock.transfer': transfer,
  ...RESERVATION_STEPS,
  ...PLACING_STEPS,
  ...LIFECYCLE_STEPS,
  ...SKU_STEPS,
  ...RESTOCK_STEPS,
  ...SHIP_CAPACITY_STEPS,
  'stock.alert': publishAlert,
  'store.notice': publishNotice,
  ...FORGET_STEPS,
};

/** The types only the stock sagas emit: never accepted from a sender. */
export const INTERNAL_TYPES = [
  ...['stock.hold', 'stock.unhold', 'stock.quote', 'stock.held', 'order.quoted', 'order.held', 'order.unheld', 'stock.alert', 'stock.unheld'],
  ...SHIP_CAPACITY_TYPES,
  ...['stock.restock', 'order.restocked', 'order.expired', 'store.notice'],
  ...FORGET_TYPES,
];
