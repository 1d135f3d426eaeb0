// An order as the outside sees it: the JSON of GET /v1/orders/:order and of the `order/<id>`
// state topic, and who it concerns, for the gateway's role checks. An order still being placed
// is nobody's yet: it has no view.

import type { StateView } from '../types.ts';
import { keys, type AllocationLine, type OrderRecord, type OrderReturn } from './types.ts';

export interface OrderView {
  order: string;
  status: string;
  customer?: string;
  channel?: string;
  pickup?: string;
  ship?: { lat: number; lon: number };
  lines: Array<{ sku: string; qty: number; price?: number; returned: number }>;
  allocation: AllocationLine[];
  currency?: string;
  history: Array<{ status: string; at: number; channel?: string; location?: string }>;
  readyUntil?: number;
  /** As order.shipped gave them: the customer follows its parcel by them. */
  shipment?: { carrier?: string; tracking?: string };
  returns: OrderReturn[];
}

export interface OrderParties {
  customer?: string;
  pickup?: string;
  /** The pickup store, every allocation location and every return location, once each. */
  locations: string[];
  status: string;
}

function placedOrder(view: StateView, orderId: string): OrderRecord | undefined {
  const order = view.get<OrderRecord>(keys.order(orderId));
  return order === undefined || order.status === 'placing' ? undefined : order;
}

export function orderView(view: StateView, orderId: string): OrderView | undefined {
  const o = placedOrder(view, orderId);
  if (!o) return undefined;
  // Records written before lines counted returns, or before history and returns were kept, read as empty.
  return {
    order: o.id,
    status: o.status,
    ...(o.customer !== undefined ? { customer: o.customer } : {}),
    ...(o.channel !== undefined ? { channel: o.channel } : {}),
    ...(o.pickup !== undefined ? { pickup: o.pickup } : {}),
    ...(o.ship !== undefined ? { ship: o.ship } : {}),
    lines: o.lines.map((l) => ({ sku: l.sku, qty: l.qty, ...(l.price !== undefined ? { price: l.price } : {}), returned: l.returned ?? 0 })),
    allocation: o.allocation,
    ...(o.currency !== undefined ? { currency: o.currency } : {}),
    history: o.history ?? [],
    ...(o.status === 'ready' && o.readyUntil !== undefined ? { readyUntil: o.readyUntil } : {}),
    ...(o.shipment !== undefined ? { shipment: o.shipment } : {}),
    returns: o.returns ?? [],
  };
}

export function orderParties(view: StateView, orderId: string): OrderParties | undefined {
  const o = placedOrder(view, orderId);
  if (!o) return undefined;
  const locations = new Set<string>();
  if (o.pickup !== undefined) locations.add(o.pickup);
  for (const a of o.allocation) locations.add(a.location);
  for (const r of o.returns ?? []) locations.add(r.location);
  return {
    ...(o.customer !== undefined ? { customer: o.customer } : {}),
    ...(o.pickup !== undefined ? { pickup: o.pickup } : {}),
    locations: [...locations],
    status: o.status,
  };
}
