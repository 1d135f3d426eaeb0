// The stock processor: locations, on-hand, safety, reservations with expiry, transfers and
// orders. Pure: it reads through the StateView it is given and returns effects. Each event
// writes only keys its own partition owns (types.ts, ownerOfKey): work at other keys is a saga
// step it emits (reservations.ts, order-saga.ts, order-lifecycle.ts, holds.ts).

import type { Processor, StateView } from '../types.ts';
import { rejection } from '../errors.ts';
import { StockChange, StockRejection } from './change.ts';
import { STOCK_EVENT_FIELDS, validateStockEvent } from './events.ts';
import { HANDLERS, INTERNAL_TYPES } from './handlers.ts';
import { expireOrder } from './order-lifecycle.ts';
import { orderView } from './order-view.ts';
import type { StockSettings } from './outcomes.ts';
import { expire } from './reservations.ts';
import { ALERTS_OWNER, availableAt, keys, LOCATIONS_OWNER, resKey, SHIP_CAPACITY_OWNER, topics, type Location, type SkuState, type StockOptions } from './types.ts';

/** Ordered with their reservation: its partition owns `stock/res/<id>` (types.ts, resKey). */
const BY_RESERVATION: ReadonlySet<string> = new Set(['stock.reserve', 'stock.release', 'stock.commit', 'stock.held', 'stock.unheld']);

/** Types whose every event one partition applies: it alone writes what they write (types.ts). */
const OWNED_BY_ONE: ReadonlyMap<string, string> = new Map([
  ['location.upserted', LOCATIONS_OWNER],
  ['stock.alert', ALERTS_OWNER],
  ['stock.shiproom', SHIP_CAPACITY_OWNER],
  ['stock.shipclaim', SHIP_CAPACITY_OWNER],
  ['stock.shipfree', SHIP_CAPACITY_OWNER],
]);

export function stockProcessor(options: StockOptions = {}): Processor {
  const lowStock = options.lowStockThreshold ?? 5;
  const settings: StockSettings = {
    defaultTtlMs: options.defaultTtlMs ?? 900_000,
    pickupHoldMs: options.pickupHoldMs ?? 259_200_000,
    returnWindowMs: options.returnWindowMs ?? 604_800_000,
    countCommerce: options.countCommerce ?? false,
  };

  return {
    name: 'stock',
    types: Object.keys(STOCK_EVENT_FIELDS),
    topicPrefixes: ['stock/', 'order/'],
    schemas: STOCK_EVENT_FIELDS,
    validate: validateStockEvent,
    internalTypes: INTERNAL_TYPES,
    // Every SKU's events read the locations.
    readByOthers: ['location.upserted'],
    // Holds, releases and commits at SKUs follow as derived events.
    stepsElsewhere: ['stock.reserve', 'stock.release', 'stock.commit', 'order.placed', 'order.fulfilled', 'order.cancelled', 'order.picked_up', 'order.shipped', 'order.returned'],

    partitionKey(ev) {
      const owner = OWNED_BY_ONE.get(ev.type);
      if (owner !== undefined) return owner;
      if (ev.type.startsWith('order.')) return ev.order as string;
      // A store's notices are published by the partition of its topic: one seq counter.
      if (ev.type === 'store.notice') return topics.store(ev.location as string);
      if (BY_RESERVATION.has(ev.type)) return resKey(ev.reservation as string);
      // Ordered per SKU (a transfer and the sagas' SKU steps too).
      return ev.sku as string;
    },

    apply(view, ev, ctx) {
      try {
        return HANDLERS[ev.type](new StockChange(view, lowStock, ev.id), ev, ctx, settings);
      } catch (err) {
        if (err instanceof StockRejection) return { result: rejection(err.code, err.message) };
        throw err;
      }
    },

    // A hold's expiry, with its reservation; a ready order's, with the order.
    timerKey: (timer) => {
      const data = timer.data as { reservation?: string; order?: string };
      return data.order !== undefined ? data.order : resKey(data.reservation!);
    },

    onTimer(view, timer, ctx) {
      const c = new StockChange(view, lowStock, timer.id);
      // Already committed, released, picked up or replaced: nothing to expire.
      const isOrder = (timer.data as { order?: string }).order !== undefined;
      if (!(isOrder ? expireOrder(c, timer, ctx, settings) : expire(c, timer))) return {};
      const { result: _ok, ...effects } = c.effects();
      return effects;
    },

    render(view, topic) {
      if (topic.startsWith('order/')) return orderView(view, topic.slice('order/'.length));
      return renderStockTopic(view, topic);
    },

    query(view, name) {
      // With each location's low-stock threshold as it applies (its own, else this server's).
      if (name === 'locations') return declaredLocations(view).map((l) => ({ ...l, lowStock: l.lowStock ?? lowStock }));
      return undefined;
    },

    seqSlot(view, topic) {
      if (!topic.startsWith('stock/')) return { group: topic, slot: 0 };
      const at = topic.lastIndexOf('@');
      if (at < 0) return { group: topic, slot: 0 };
      const sku = topic.slice('stock/'.length, at);
      // Rows are only ever appended, so a location's slot is fixed once it has a row.
      const i = view.get<SkuState>(keys.sku(sku))?.locations.indexOf(topic.slice(at + 1)) ?? -1;
      return i < 0 ? undefined : { group: topics.sku(sku), slot: 1 + i };
    },
  };
}

/** `stock/<sku>` → totals with locations; `stock/<sku>@<location>` → that one row. */
export function renderStockTopic(view: StateView, topic: string): unknown | undefined {
  const name = topic.slice('stock/'.length);
  const at = name.lastIndexOf('@');
  const sku = at < 0 ? name : name.slice(0, at);
  const state = view.get<SkuState>(keys.sku(sku));
  if (!state) return undefined;
  const r = state.rows;
  if (at >= 0) {
    const location = name.slice(at + 1);
    const i = state.locations.indexOf(location);
    if (i < 0) return undefined;
    return { sku, location, onHand: r[3 * i], reserved: r[3 * i + 1], safety: r[3 * i + 2], available: availableAt(state, i) };
  }
  let onHand = 0;
  let reserved = 0;
  let avail = 0;
  // No prototype: a location may be called `__proto__` like anything else.
  const locations: Record<string, { onHand: number; reserved: number; safety: number; available: number }> =
    Object.create(null);
  for (let i = 0; i < state.locations.length; i++) {
    const a = availableAt(state, i);
    onHand += r[3 * i];
    reserved += r[3 * i + 1];
    avail += a;
    locations[state.locations[i]] = { onHand: r[3 * i], reserved: r[3 * i + 1], safety: r[3 * i + 2], available: a };
  }
  return { sku, onHand, reserved, available: avail, locations };
}

/** Every location in the index (keys.locationIndex), ordered by id so the answer is stable. */
export function declaredLocations(view: StateView): Location[] {
  const ids = [...(view.get<string[]>(keys.locationIndex) ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const locations: Location[] = [];
  for (const id of ids) {
    const location = view.get<Location>(keys.location(id));
    if (location !== undefined) locations.push(location);
  }
  return locations;
}
