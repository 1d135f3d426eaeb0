// `omni bench orders` and `omni bench order-get`: the order events they send, their options, and
// a tiny real run of each that must produce its figures (nothing is asserted about how fast).

import { describe, expect, it } from 'vitest';
import { UsageError } from '../bench/shared/flags.ts';
import { readOrdersOptions, runOrdersBench, ordersHeadline, type OrdersBenchOptions } from '../bench/orders/lifecycle.ts';
import { readOrderGetOptions, runOrderGetBench } from '../bench/orders/lookup.ts';
import { OrderWorkload, PlainStockWorkload, storeEvents, type OrderShape } from '../bench/orders/workload.ts';

const shape: OrderShape = { skus: 50, stores: 3, linesPerOrder: 3, dist: 'zipf', flow: 'pickup' };

describe('order workload', () => {
  it('places pickup orders of distinct SKUs at a store, then readies and picks each up, deterministically', () => {
    const orders = new OrderWorkload(shape, 't').orders(500);
    expect(new OrderWorkload(shape, 't').orders(500)).toEqual(orders);
    const stores = new Set(storeEvents(3, 't').map((e) => e.location));
    for (const [placed, ready, pickedUp] of orders) {
      const lines = placed.lines as Array<{ sku: string; qty: number; price: number }>;
      expect(placed.type).toBe('order.placed');
      expect(new Set(lines.map((l) => l.sku)).size).toBe(3);
      expect(stores.has(placed.pickup as string)).toBe(true);
      expect(lines.every((l) => l.qty >= 1 && Number.isInteger(l.price))).toBe(true);
      expect([ready.type, ready.order, pickedUp.type, pickedUp.order]).toEqual(['order.ready', placed.order, 'order.picked_up', placed.order]);
    }
    expect(new Set(orders.flat().map((e) => e.id)).size).toBe(orders.length * 3);
    expect(new OrderWorkload({ ...shape, flow: 'fulfilled' }, 't').nextOrder().map((e) => e.type)).toEqual(['order.placed', 'order.fulfilled']);
  });

  it('declares every location a store, and mixes received and sold one unit at a time', () => {
    expect(storeEvents(20, 't').every((e) => e.kind === 'store')).toBe(true);
    const events = new PlainStockWorkload(shape, 't').chunk(2000);
    const sold = events.filter((e) => e.type === 'stock.sold').length;
    expect(sold).toBeGreaterThan(800);
    expect(events.length - sold).toBeGreaterThan(800);
    expect(events.every((e) => e.qty === 1 && (e.type === 'stock.sold' || e.type === 'stock.received'))).toBe(true);
  });
});

describe('options', () => {
  it('defaults to the stated shape, both workloads and both thread counts', () => {
    expect(readOrdersOptions([])).toMatchObject({ skus: 10_000, stores: 20, linesPerOrder: 3, flow: 'pickup', workloads: ['orders', 'stock'], workers: [1, 2], durability: 'fsync', chunk: 1 });
    expect(readOrderGetOptions([])).toMatchObject({ orders: 1_000_000, seed: 'direct', connections: 4 });
    expect(() => readOrdersOptions(['--workloads', 'orders,returns'])).toThrow(UsageError);
    expect(() => readOrdersOptions(['--skus', '2'])).toThrow(UsageError);
  });
});

describe('tiny real runs', () => {
  it('orders beside stock events: every order scheduled in the latency phase completes all three steps', async () => {
    const o = readOrdersOptions(['--skus', '50', '--stores', '3', '--seconds', '0.5', '--warmup', '0.3', '--workers', '1', '--durability', 'none', '--concurrency', '20', '--stock-chunk', '50', '--stock-concurrency', '4']) as OrdersBenchOptions;
    const r = await runOrdersBench(o);
    const orders = r.variants.find((v) => v.workload === 'orders')!;
    const stock = r.variants.find((v) => v.workload === 'stock')!;
    for (const v of [orders, stock]) {
      expect(v.throughput.rejected + v.latency.rejected).toBe(0);
      expect(Number.isFinite(v.throughput.perS)).toBe(true);
      expect(v.latency.done).toBeGreaterThan(0);
      expect(v.latency.ack.count).toBe(v.latency.events);
    }
    // The open loop waits for every order it scheduled: each was answered at every step.
    expect(Object.keys(orders.latency.ackByStep)).toEqual(['order.placed', 'order.ready', 'order.picked_up']);
    for (const step of Object.values(orders.latency.ackByStep)) expect(step.count).toBe(orders.latency.done);
    expect(orders.latency.order?.count).toBe(orders.latency.done);
    const headline = ordersHeadline(r);
    expect(Object.keys(headline)).toEqual(expect.arrayContaining(['w1.orders.perS', 'w1.orders.ackP99Ms', 'w1.orders.orderP99Ms', 'w1.stock.perS', 'w1.stock.ackP99Ms']));
    for (const v of Object.values(headline)) expect(Number.isFinite(v)).toBe(true);
  }, 120_000);

  it('order-get: orders through the engine and copied ones are both served, and the GETs give figures', async () => {
    const o = readOrderGetOptions(['--orders', '300', '--sample', '40', '--skus', '50', '--stores', '3', '--seconds', '0.5', '--warmup', '0.2', '--connections', '2']);
    if (o === 'help') throw new Error('no flags asked for help');
    // The run itself GETs the first order (through the engine) and the last (copied) and fails unless both come back completed.
    const r = await runOrderGetBench(o);
    expect(r.engineSeed).toMatchObject({ orders: 40, rejected: 0 });
    expect(r.directSeed.orders).toBe(260);
    expect(r.notFound).toBe(0);
    expect(r.latency.count).toBe(r.requests);
    for (const v of [r.latency.p50, r.latency.p99, r.requestsPerS]) expect(Number.isFinite(v)).toBe(true);
  }, 180_000);
});
