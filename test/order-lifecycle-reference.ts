// A reference model of the order table for test/order-lifecycle-model.test.ts: a plain state
// machine of each order's status over plain stock rows (onHand and reserved per SKU and
// location), which checks each answer it is given against what the table allows and, when the
// answer is ok, follows it. Its stock starts with every SKU at one location only, so it can
// say where a pickup order's goods come from; a ship order's allocation it only checks, then
// takes (which locations ship is the allocator's business, not the lifecycle's).

import { expect } from 'vitest';
import type { FinalResult, InputEvent } from '../engine/types.ts';

// Events carry their own time (`ts`), some behind the clock: the return window runs on event
// time, the pickup hold on the clock. Both move in steps of 10 ms from T0, and both limits are
// odd: no event or timer ever lands exactly on a limit, where "within" could be read either way.
export const T0 = 1_000_000;
/** How far behind the clock an event's own time may be: a late or replayed event. */
export const LAGS = [0, 0, 0, 2_000, 7_000];
export const HOLD_MS = 5_005;
export const WINDOW_MS = 7_005;
export const OPTIONS = { pickupHoldMs: HOLD_MS, returnWindowMs: WINDOW_MS };

export const LOCATIONS = [
  { location: 'W1', kind: 'warehouse', lat: 50.1, lon: 8.7, skus: ['A', 'B'], stock: 1000 },
  { location: 'S1', kind: 'store', lat: 52.5, lon: 13.4, skus: ['C', 'E'], stock: 12 },
  { location: 'S2', kind: 'store', lat: 48.1, lon: 11.6, skus: ['D', 'F'], stock: 12 },
];
export const LOCATION_IDS = LOCATIONS.map((l) => l.location);
export const SKUS = LOCATIONS.flatMap((l) => l.skus);
export type Status = 'placed' | 'ready' | 'shipped' | 'completed' | 'cancelled' | 'expired' | 'partially_returned' | 'returned';

/** A store notice (`store/<location>`) or a pickup_expired alert, as far as the model tells them apart. */
export interface Notice {
  topic: string;
  type: string;
  order: string;
  return?: string;
  lines?: Array<{ sku: string; qty: number }>;
}

export interface RefOrder {
  id: string;
  status: Status;
  pickup?: string;
  ship?: { lat: number; lon: number };
  customer?: string;
  channel?: string;
  lines: Array<{ sku: string; qty: number; price?: number; returned: number }>;
  allocation: Array<{ sku: string; qty: number; location: string }>;
  currency?: string;
  history: Array<{ status: string; at: number; channel?: string; location?: string }>;
  readyUntil?: number;
  shipment?: { carrier?: string; tracking?: string };
  returnFrom?: number;
  returns: Array<{ return: string; lines: Array<{ sku: string; qty: number }>; location: string; channel?: string; refund?: number }>;
}

/** What the model expects of one answer: refused with one of `codes`, or accepted leaving `status`. */
type Expected = { codes: string[] } | { status: Status; refund?: number };

export function mergedLines(ev: InputEvent): Array<{ sku: string; qty: number; price?: number }> {
  const bySku = new Map<string, { sku: string; qty: number; price?: number }>();
  for (const l of ev.lines as Array<{ sku: string; qty: number; price?: number }>) {
    const seen = bySku.get(l.sku);
    if (seen) seen.qty += l.qty;
    else bySku.set(l.sku, { ...l });
  }
  return [...bySku.values()];
}

/**
 * Where a change happened, as the order's history tells it: at the pickup store when it is
 * readied or picked up (over the counter), in the return's channel at its location.
 */
function where(ev: InputEvent, order: RefOrder, status: Status): { channel?: string; location?: string } {
  if (ev.type === 'order.returned') return { ...(ev.channel !== undefined ? { channel: ev.channel as string } : {}), location: ev.location as string };
  if (status === 'ready') return { location: order.pickup };
  if (status === 'completed' && order.pickup !== undefined) return { channel: 'store', location: order.pickup };
  return {};
}

/** The order table as a plain state machine over plain stock rows. */
export class Reference {
  now = T0;
  readonly orders = new Map<string, RefOrder>();
  readonly rows = new Map<string, { onHand: number; reserved: number }>();
  /** What the associates of a store and the stock alerts were told, oldest first. */
  readonly news: Notice[] = [];

  constructor() {
    for (const l of LOCATIONS) for (const sku of l.skus) this.rows.set(`${sku}@${l.location}`, { onHand: l.stock, reserved: 0 });
  }

  row(sku: string, location: string) {
    let row = this.rows.get(`${sku}@${location}`);
    if (!row) this.rows.set(`${sku}@${location}`, (row = { onHand: 0, reserved: 0 }));
    return row;
  }

  available(sku: string, location: string): number {
    const row = this.rows.get(`${sku}@${location}`);
    return row ? Math.max(0, row.onHand - row.reserved) : 0;
  }

  /** Checks the answer to `ev` and, when it was accepted, follows it. */
  apply(ev: InputEvent, answer: FinalResult): void {
    const expected = this.expect(ev);
    if ('codes' in expected) {
      expect(answer.ok ? 'accepted' : answer.error.code, `${ev.type} ${JSON.stringify(ev)}`).toBeOneOf(expected.codes);
      return;
    }
    expect(answer, `${ev.type} ${JSON.stringify(ev)}`).toMatchObject({ ok: true });
    const ok = answer as Record<string, unknown>;
    expect(ok.order).toBe(ev.order);
    if (ev.type !== 'order.placed') expect(ok.status).toBe(expected.status);
    if (ev.type === 'order.returned') expect([ok.return, ok.refund]).toEqual([ev.return, expected.refund]);
    this.follow(ev, expected, ok);
  }

  private expect(ev: InputEvent): Expected {
    const order = this.orders.get(ev.order as string);
    // An order id already in use.
    if (ev.type === 'order.placed') return order ? { codes: ['conflict'] } : this.expectPlaced(ev);
    if (ev.type === 'order.returned') return this.expectReturn(ev, order);
    if (!order) return { codes: ['unknown_order'] };
    const pickup = order.pickup !== undefined;
    const s = order.status;
    const type = ev.type === 'order.fulfilled' ? (pickup ? 'order.picked_up' : 'order.shipped') : ev.type;
    const next: Status | undefined =
      type === 'order.ready' ? (pickup && s === 'placed' ? 'ready' : undefined)
      : type === 'order.picked_up' ? (pickup && (s === 'placed' || s === 'ready') ? 'completed' : undefined)
      : type === 'order.shipped' ? (!pickup && s === 'placed' ? 'shipped' : undefined)
      : type === 'order.delivered' ? (s === 'shipped' ? 'completed' : undefined)
      : s === 'placed' || s === 'ready' ? 'cancelled' : undefined;
    return next ? { status: next } : { codes: ['invalid_transition'] };
  }

  private expectPlaced(ev: InputEvent): Expected {
    const lines = mergedLines(ev);
    const short = lines.some((l) =>
      ev.pickup !== undefined ? this.available(l.sku, ev.pickup as string) < l.qty : LOCATION_IDS.reduce((sum, loc) => sum + this.available(l.sku, loc), 0) < l.qty,
    );
    return short ? { codes: ['insufficient_stock'] } : { status: 'placed' };
  }

  /** The table does not say which refusal comes first when several apply: any of them is right. */
  private expectReturn(ev: InputEvent, order: RefOrder | undefined): Expected {
    const codes: string[] = [];
    if (!LOCATION_IDS.includes(ev.location as string)) codes.push('unknown_location');
    if (!order) return { codes: [...codes, 'unknown_order'] };
    if (!['shipped', 'completed', 'partially_returned'].includes(order.status)) return { codes: [...codes, 'invalid_transition'] };
    const asked = new Map<string, number>();
    for (const l of ev.lines as Array<{ sku: string; qty: number }>) asked.set(l.sku, (asked.get(l.sku) ?? 0) + l.qty);
    const exceeds = [...asked].some(([sku, qty]) => {
      const line = order.lines.find((l) => l.sku === sku);
      return !line || qty > line.qty - line.returned;
    });
    if (exceeds) codes.push('return_exceeds_order');
    if ((ev.ts as number) - order.returnFrom! > WINDOW_MS) codes.push('return_window_passed');
    if (codes.length > 0) return { codes };
    const left = order.lines.reduce((sum, l) => sum + l.qty - l.returned, 0) - [...asked.values()].reduce((a, b) => a + b, 0);
    const priced = order.lines.every((l) => l.price !== undefined);
    const refund = priced ? [...asked].reduce((sum, [sku, qty]) => sum + qty * order.lines.find((l) => l.sku === sku)!.price!, 0) : undefined;
    return { status: left === 0 ? 'returned' : 'partially_returned', refund };
  }

  private follow(ev: InputEvent, expected: { status: Status; refund?: number }, answer: Record<string, unknown>): void {
    if (ev.type === 'order.placed') return this.place(ev, answer.allocation as RefOrder['allocation']);
    const order = this.orders.get(ev.order as string)!;
    const was = order.status;
    order.status = expected.status;
    order.history.push({ status: expected.status, at: ev.ts as number, ...where(ev, order, expected.status) });
    delete order.readyUntil;
    if (expected.status === 'ready') order.readyUntil = this.now + HOLD_MS;
    if (expected.status === 'shipped') order.shipment = { ...(ev.carrier != null ? { carrier: ev.carrier as string } : {}), ...(ev.tracking != null ? { tracking: ev.tracking as string } : {}) };
    if (expected.status === 'cancelled') this.release(order);
    if ((expected.status === 'completed' && was !== 'shipped') || expected.status === 'shipped') {
      for (const a of order.allocation) {
        const row = this.row(a.sku, a.location);
        row.onHand -= a.qty;
        row.reserved -= a.qty;
      }
      // The window runs from the shipping or the pickup: a delivery does not start it again.
      order.returnFrom = ev.ts as number;
    }
    if (ev.type === 'order.returned') {
      const lines = mergedLines(ev);
      for (const l of lines) {
        order.lines.find((x) => x.sku === l.sku)!.returned += l.qty;
        this.row(l.sku, ev.location as string).onHand += l.qty;
      }
      const refund = expected.refund !== undefined ? { refund: expected.refund } : {};
      this.news.push({ topic: `store/${ev.location}`, type: 'return', order: order.id, return: ev.return as string, lines });
      order.returns.push({ return: ev.return as string, lines, location: ev.location as string, ...(ev.channel ? { channel: ev.channel as string } : {}), ...refund });
    }
  }

  private place(ev: InputEvent, allocation: RefOrder['allocation']): void {
    const lines = mergedLines(ev);
    const taken = allocation.map(({ sku, qty, location }) => ({ sku, qty, location }));
    if (ev.pickup !== undefined) {
      expect(taken).toEqual(lines.map((l) => ({ sku: l.sku, qty: l.qty, location: ev.pickup })));
    } else {
      for (const l of lines) expect(taken.filter((a) => a.sku === l.sku).reduce((sum, a) => sum + a.qty, 0)).toBe(l.qty);
      expect(taken.every((a) => a.qty > 0 && a.qty <= this.available(a.sku, a.location))).toBe(true);
    }
    for (const a of taken) this.row(a.sku, a.location).reserved += a.qty;
    if (ev.pickup !== undefined) this.news.push({ topic: `store/${ev.pickup}`, type: 'pickup', order: ev.order as string });
    this.orders.set(ev.order as string, {
      id: ev.order as string,
      status: 'placed',
      ...(ev.pickup !== undefined ? { pickup: ev.pickup as string } : { ship: ev.ship as { lat: number; lon: number } }),
      ...(ev.customer !== undefined ? { customer: ev.customer as string } : {}),
      ...(ev.channel !== undefined ? { channel: ev.channel as string } : {}),
      lines: lines.map((l) => ({ ...l, returned: 0 })),
      allocation: taken,
      ...(ev.currency !== undefined ? { currency: ev.currency as string } : {}),
      history: [{ status: 'placed', at: ev.ts as number, ...(ev.channel !== undefined ? { channel: ev.channel as string } : {}) }],
      returns: [],
    });
  }

  private release(order: RefOrder): void {
    for (const a of order.allocation) this.row(a.sku, a.location).reserved -= a.qty;
  }

  /** Time passes: ready orders whose hold ran out expire. */
  tick(ms: number): void {
    this.now += ms;
    for (const order of this.orders.values()) {
      if (order.status !== 'ready' || order.readyUntil! > this.now) continue;
      order.status = 'expired';
      order.history.push({ status: 'expired', at: this.now, location: order.pickup });
      delete order.readyUntil;
      this.release(order);
      this.news.push({ topic: `store/${order.pickup}`, type: 'expired', order: order.id }, { topic: 'alerts/stock', type: 'pickup_expired', order: order.id });
    }
  }

  /** The view orderView should give, allocation without its reservation ids. */
  view(id: string): unknown {
    const o = this.orders.get(id);
    if (!o) return undefined;
    return {
      order: o.id,
      status: o.status,
      ...(o.customer !== undefined ? { customer: o.customer } : {}),
      ...(o.channel !== undefined ? { channel: o.channel } : {}),
      ...(o.pickup !== undefined ? { pickup: o.pickup } : { ship: o.ship }),
      lines: o.lines,
      allocation: o.allocation,
      ...(o.currency !== undefined ? { currency: o.currency } : {}),
      history: o.history,
      ...(o.readyUntil !== undefined ? { readyUntil: o.readyUntil } : {}),
      ...(o.shipment !== undefined ? { shipment: o.shipment } : {}),
      returns: o.returns,
    };
  }
}

/** Declares the locations and stocks each SKU at its one location. */
export function setupEvents(): InputEvent[] {
  const declared = LOCATIONS.map(({ location, kind, lat, lon }) => ({ id: `loc-${location}`, type: 'location.upserted', location, kind, lat, lon }));
  const stocked = LOCATIONS.flatMap((l) => l.skus.map((sku) => ({ id: `recv-${sku}`, type: 'stock.received', sku, location: l.location, qty: l.stock })));
  return [...declared, ...stocked];
}
