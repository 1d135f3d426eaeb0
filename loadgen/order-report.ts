// The orders' part of a run (omnichannel scenario): every `order.*` event's answer (ack latency
// from its scheduled time, counts by type and error code) and what the customers following their
// orders saw (order-followers.ts), as the report's `orders` section, latencies and summary rows.

import type { InputEvent } from '../engine/mod.ts';
import { LatencyRecorder, type LatencyMs } from './latency.ts';
import type { OrderFollowFinal } from './order-followers.ts';

export interface OrderEventCounts {
  acked: number;
  errors: number;
}

export interface OrdersSection {
  /** Per order event type: answered ok, refused. */
  events: Record<string, OrderEventCounts>;
  /** Refused order events by error code. */
  errorCodes: Record<string, number>;
  followers: Omit<OrderFollowFinal, 'push' | 'seen'>;
}

export interface OrderLatencies {
  /** An `order.*` event's scheduled send → its HTTP answer. */
  orderAck: LatencyMs;
  /** An `order/<id>` update's `ts` (its step's scheduled send) → received by the order's customer. */
  orderPush: LatencyMs;
  /** An `order.placed`'s scheduled send → the customer's first `order/<id>` snapshot. */
  orderSeen: LatencyMs;
}

/** The answers to the run's order events. */
export class OrderEvents {
  readonly ack = new LatencyRecorder();
  private readonly events: Record<string, OrderEventCounts> = {};
  private readonly errorCodes: Record<string, number> = {};

  /** Whether `ev` is one of the order events this tally counts. */
  static isOrderEvent(ev: InputEvent): boolean {
    return ev.type.startsWith('order.');
  }

  answered(ev: InputEvent, result: { ok: boolean; error?: { code: string } } | undefined, nowMs: number): void {
    if (ev.ts !== undefined) this.ack.recordSince(ev.ts, nowMs);
    const counts = (this.events[ev.type] ??= { acked: 0, errors: 0 });
    if (result?.ok === true) return void counts.acked++;
    counts.errors++;
    const code = result?.error?.code ?? 'no_answer';
    this.errorCodes[code] = (this.errorCodes[code] ?? 0) + 1;
  }

  /** Anything answered at all. */
  get any(): boolean {
    return Object.keys(this.events).length > 0;
  }

  section(followers: OrderFollowFinal): OrdersSection {
    const { push: _p, seen: _s, ...counts } = followers;
    return { events: this.events, errorCodes: this.errorCodes, followers: counts };
  }
}

export function orderLatencies(events: OrderEvents, followers: OrderFollowFinal): OrderLatencies {
  return { orderAck: events.ack.summary(), orderPush: followers.push.summary(), orderSeen: followers.seen.summary() };
}

/** The summary rows of the orders (the table and the HTML report). */
export function orderRows(orders: OrdersSection, l: Partial<OrderLatencies>, percentiles: (p: LatencyMs) => string): Array<[string, string]> {
  const n = (x: number) => x.toLocaleString('en-US');
  const events = Object.entries(orders.events)
    .map(([type, c]) => `${type.slice('order.'.length)} ${n(c.acked)}${c.errors ? ` (+${n(c.errors)} refused)` : ''}`)
    .join(', ');
  const f = orders.followers;
  const rows: Array<[string, string]> = [
    ['order events', `${events}${Object.keys(orders.errorCodes).length ? ` ${JSON.stringify(orders.errorCodes)}` : ''}`],
    ['order ack latency', percentiles(l.orderAck!)],
    ['order push latency', percentiles(l.orderPush!)],
    ['order seen latency', percentiles(l.orderSeen!)],
    ['order followers', `${n(f.followed)} orders followed by their customers (${n(f.skipped)} not: all followers busy), ${n(f.snapshots)} snapshots, ${n(f.updates)} updates ${JSON.stringify(f.byStatus)}, ${n(f.finished)} seen to their end, ${n(f.errors)} errors`],
  ];
  return rows;
}
