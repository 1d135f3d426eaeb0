// The stock domain's state, as stored under its keys, and which partition owns each key.

import type { EventError, InputEvent } from '../types.ts';

export interface Location {
  id: string;
  kind: 'store' | 'warehouse';
  lat: number;
  lon: number;
  name?: string;
  /** Low-stock alert threshold for this location; the processor's default when absent. */
  lowStock?: number;
  /** False: never a source of ship orders (still serves pickups). Absent means true. */
  ships?: boolean;
  /** Ship orders it may take per UTC day of the orders' event time; no limit when absent (ship-capacity.ts). */
  shipCapacity?: number;
}

/**
 * One record per SKU holding every location's row: a reservation without a location and an
 * order's allocation read one record per SKU, and the totals come from the same read. Row i
 * (location `locations[i]`) is `rows[3i]` onHand, `rows[3i+1]` reserved, `rows[3i+2]` safety:
 * an update copies one number array (and shares `locations` unless a location is added),
 * encodes as plain arrays, and creates no per-SKU object shapes.
 */
export interface SkuState {
  sku: string;
  locations: string[];
  rows: number[];
}

export const ON_HAND = 0;
export const RESERVED = 1;
export const SAFETY = 2;

export function availableAt(state: SkuState, i: number): number {
  const r = state.rows;
  return Math.max(0, r[3 * i] - r[3 * i + 1] - r[3 * i + 2]);
}

/** A hold that is in force: the SKU's row counts it as reserved. */
export interface Reservation {
  id: string;
  sku: string;
  location: string;
  qty: number;
  /** Clock ms; absent for an order's reservations, which are held until fulfilled or cancelled. */
  expiresAt?: number;
  order?: string;
  channel?: string;
  /** The id of the stock.reserve that made it: a repeated reply of its SKU is known by it. */
  origin?: string;
}

/**
 * A reservation asked for and not yet answered by its SKU (stock.hold sent, stock.held not yet
 * applied): it holds its id, and nothing else yet.
 */
export interface PendingReservation {
  id: string;
  sku: string;
  qty: number;
  /** As asked: absent when the SKU chooses. */
  location?: string;
  expiresAt: number;
  channel?: string;
  pending: true;
  /** The stock.reserve event's id: the SKU's reply names it. */
  origin: string;
  /** The stock.reserve event, answered when the SKU replies. */
  event: InputEvent;
  /** Releases and commits sent before the SKU replied, done in arrival order once it has. */
  waiting?: InputEvent[];
}

/** What `stock/res/<id>` holds. */
export type ReservationRecord = Reservation | PendingReservation;

export function isPendingReservation(r: ReservationRecord): r is PendingReservation {
  return (r as PendingReservation).pending === true;
}

export interface AllocationLine {
  sku: string;
  qty: number;
  location: string;
  reservation: string;
}

/**
 * An order's saga under way at the order's partition (order-saga.ts, order-returns.ts): placing
 * it (quotes, then holds), ending its holds, or restocking a return.
 */
export interface OrderSaga {
  /** The event answered when the saga ends. */
  event: InputEvent;
  /** A shipped order's quotes, per line: each location's available units, null until its SKU answers. */
  quotes?: Array<Array<[location: string, available: number]> | null>;
  /** The holds asked for, per allocation line, and each SKU's reply (null until it comes). */
  plan?: Array<{ sku: string; qty: number; location: string }>;
  replies?: Array<{ location: string } | { error: EventError } | null>;
  /** Closing: per allocation line, whether its hold is still being ended (a return: per returned line, whether its goods are yet to be back on hand). */
  closing?: boolean[];
  /** The answer given once every line is done, when it is not `{order, status}`. */
  answer?: Record<string, unknown>;
  /** Order events sent while the order was placing (or its holds ending): done when that ends. */
  waiting?: InputEvent[];
  /** A ship order's wait for the shipping capacity's owner (ship-capacity.ts): its room, then its claim. */
  shipping?: 'room' | 'claim';
}

export const ORDER_CHANNELS = ['web', 'app', 'store', 'kiosk', 'phone', 'social'] as const;
export type OrderChannel = (typeof ORDER_CHANNELS)[number];

export type OrderStatus = 'placed' | 'ready' | 'shipped' | 'completed' | 'cancelled' | 'expired' | 'partially_returned' | 'returned';

export interface OrderLine {
  sku: string;
  qty: number;
  /** Unit price in minor units, as placed. */
  price?: number;
  /** Units returned so far. */
  returned: number;
}

export interface OrderReturn {
  return: string;
  lines: Array<{ sku: string; qty: number }>;
  location: string;
  channel?: string;
  refund?: number;
}

export interface Order {
  id: string;
  status: OrderStatus;
  customer?: string;
  channel?: OrderChannel;
  currency?: string;
  lines: OrderLine[];
  pickup?: string;
  ship?: { lat: number; lon: number };
  allocation: AllocationLine[];
  placedAt: number;
  history: Array<{ status: string; at: number; channel?: string; location?: string }>;
  /** Clock ms the pickup hold runs out, while `ready`. */
  readyUntil?: number;
  /** Event time it was shipped or completed: the return window starts here. */
  returnFrom?: number;
  returns: OrderReturn[];
  /** As order.shipped gave them. */
  shipment?: { carrier?: string; tracking?: string };
  /** The commerce news already sent for it (commerce.counted kinds), each sent once. */
  counted?: string[];
  /** The id of the order.placed that placed it: a repeated reply of a SKU is known by it. */
  origin?: string;
  /** While its saga is under way (order-saga.ts). */
  saga?: OrderSaga;
  /** The day's shipping slots it took at locations with a shipCapacity (ship-capacity.ts). */
  shipSlots?: ShipSlots;
}

/** Slots of one UTC day (`YYYY-MM-DD`) taken at each of `locations`. */
export interface ShipSlots {
  day: string;
  locations: string[];
}

/**
 * What `stock/order/<id>` holds: an order, or one being placed (`placing`: its holds are being
 * asked for; it holds the order id and no stock of its own).
 */
export type OrderRecord = Omit<Order, 'status'> & { status: OrderStatus | 'placing' };

export interface StockOptions {
  /** Low-stock threshold where a location sets none (default 5). */
  lowStockThreshold?: number;
  /** Default reservation hold (default 900000 ms = 15 min). */
  defaultTtlMs?: number;
  /** How long a ready pickup order waits at its store, clock ms (default 259200000 = 3 days). */
  pickupHoldMs?: number;
  /** How long after shipped or completed a return is taken, event time (default 604800000 = 7 days). */
  returnWindowMs?: number;
  /** Send commerce.counted for each order's news: only where a processor takes it (engine/commerce). */
  countCommerce?: boolean;
}

/**
 * The state key and topic names of a SKU, built once and reused: the same string objects go
 * into every map lookup of the engine, so their hashes are computed once, not per event.
 */
export interface SkuNames {
  key: string;
  topic: string;
  at: Map<string, string>;
}

const MAX_NAMED_SKUS = 200_000;
const skuNames = new Map<string, SkuNames>();
const locationKeys = new Map<string, string>();

export function namesOf(sku: string): SkuNames {
  let names = skuNames.get(sku);
  if (!names) {
    if (skuNames.size >= MAX_NAMED_SKUS) skuNames.clear();
    names = { key: `stock/sku/${sku}`, topic: `stock/${sku}`, at: new Map() };
    skuNames.set(sku, names);
  }
  return names;
}

export function locationTopic(names: SkuNames, sku: string, location: string): string {
  let topic = names.at.get(location);
  if (topic === undefined) names.at.set(location, (topic = `stock/${sku}@${location}`));
  return topic;
}

export const keys = {
  location: (id: string) => {
    let key = locationKeys.get(id);
    if (key === undefined) {
      if (locationKeys.size >= MAX_NAMED_SKUS) locationKeys.clear();
      locationKeys.set(id, (key = `stock/loc/${id}`));
    }
    return key;
  },
  /**
   * Every declared location id, in declaration order (GET /v1/locations): the state can only be
   * read by key, so listing locations needs a record of them. Written by location.upserted alone
   * (at LOCATIONS_OWNER's partition); a location declared before this record existed is listed
   * once it is declared again.
   */
  locationIndex: 'stock/locations',
  sku: (sku: string) => namesOf(sku).key,
  reservation: (id: string) => `stock/res/${id}`,
  order: (id: string) => `stock/order/${id}`,
  /** Ship orders a location took on a UTC day: a number, written by SHIP_CAPACITY_OWNER alone. */
  shipCapacity: (location: string, day: string) => `stock/shipcap/${location}/${day}`,
};

const ORDER_RESERVATION = /^order:(.+):(\d+)$/;

/**
 * The key whose partition owns reservation `id`: an order's own reservations (`order:<X>:<i>`)
 * live with order X, whose saga writes them; any other is its own key.
 */
export function resKey(id: string): string {
  const m = ORDER_RESERVATION.exec(id);
  return m ? m[1] : id;
}

/**
 * The key whose partition owns every location and the location index: location.upserted is
 * ordered by it, so one partition writes them all (locations are few and rarely change), and
 * the others only read them.
 */
export const LOCATIONS_OWNER = 'locations';

/**
 * The key whose partition owns every shipping-capacity counter: all orders share them, and one
 * partition deciding every claim is what keeps a day within its capacity (ship-capacity.ts).
 */
export const SHIP_CAPACITY_OWNER = 'shipcap';

/**
 * The key whose partition alone writes a state key: a SKU's record by the SKU, every location
 * and the location index by LOCATIONS_OWNER, an order by the order, a reservation by resKey,
 * the shipping-capacity counters by SHIP_CAPACITY_OWNER.
 */
export function ownerOfKey(stateKey: string): string | undefined {
  if (stateKey === keys.locationIndex) return LOCATIONS_OWNER;
  const slash = stateKey.indexOf('/', 'stock/'.length);
  if (slash < 0) return undefined;
  const kind = stateKey.slice('stock/'.length, slash);
  const id = stateKey.slice(slash + 1);
  if (kind === 'sku' || kind === 'order') return id;
  if (kind === 'loc') return LOCATIONS_OWNER;
  if (kind === 'shipcap') return SHIP_CAPACITY_OWNER;
  if (kind === 'res') return resKey(id);
  return undefined;
}

export const topics = {
  sku: (sku: string) => namesOf(sku).topic,
  alerts: 'alerts/stock',
  /** An order as its customer and the stores follow it (order-view.ts). */
  order: (id: string) => `order/${id}`,
  /** The event topic of one store's associates: pickups, expiries, returns, shoppers. */
  store: (location: string) => `store/${location}`,
};

/**
 * The key whose partition alone publishes on `alerts/stock` (an event topic: one seq counter,
 * which one partition must advance): a step raising an alert emits it there as `stock.alert`.
 */
export const ALERTS_OWNER = topics.alerts;

