// The omnichannel scenario's orders: each order's life is planned in the documented shares
// (pickups made ready then collected, cancelled or left to expire; shipments delivered; returns,
// many at another store), and a short real run against `omni serve` (its own process) gets
// every order step acknowledged, the customers' `order/<id>` pushes and the associates'
// `store/<loc>` notices delivered, without errors.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type Role } from '../gateway/mod.ts';
import { runLoadgen } from '../loadgen/run.ts';
import { Geography } from '../loadgen/scenarios/geography.ts';
import { PICKUP_RETURNED, READY_UNCOLLECTED, RETURN_ELSEWHERE, SHIP_RETURNED, planOrder, type OrderPlan } from '../loadgen/scenarios/order-life.ts';
import { prng } from '../loadgen/stock-workload.ts';
import { killHard, startServe, type RunningServe } from './fixtures/omni-process.ts';
import { shortRun } from './loadgen-harness.ts';

const SECRET = 'loadgen-orders-secret';

describe('order lives', () => {
  const geography = new Geography(10, 2);
  const rand = prng(3);
  const lines = [
    { sku: 'A', qty: 2 },
    { sku: 'B', qty: 1 },
  ];
  /** The pickup store of order k (pickup orders). */
  const storeOf = (k: number) => geography.stores[k % 10];
  const plans = (pickup: boolean, n: number): OrderPlan[] =>
    Array.from({ length: n }, (_, k) => planOrder({ order: `o${k}`, lines, pickup: pickup ? storeOf(k) : undefined, returnId: `r${k}` }, geography, rand));
  const share = (list: OrderPlan[], test: (p: OrderPlan) => boolean) => list.filter(test).length / list.length;
  const types = (p: OrderPlan) => p.steps.map((s) => s.type).join(' ');

  it('a pickup order is made ready, then collected, cancelled or left to expire; some collected ones come back, mostly at another store', () => {
    const pickups = plans(true, 20_000);
    const allowed = ['order.cancelled', 'order.ready', 'order.ready order.cancelled', 'order.ready order.picked_up', 'order.ready order.picked_up order.returned'];
    expect(pickups.map(types).filter((t) => !allowed.includes(t))).toEqual([]);
    expect(Math.abs(share(pickups, (p) => p.end === 'expired') - 0.96 * READY_UNCOLLECTED)).toBeLessThan(0.01);
    const collected = pickups.filter((p) => p.steps.some((s) => s.type === 'order.picked_up'));
    const returned = collected.filter((p) => p.steps.some((s) => s.type === 'order.returned'));
    expect(Math.abs(returned.length / collected.length - PICKUP_RETURNED)).toBeLessThan(0.01);
    const elsewhere = returned.filter((p) => p.steps.at(-1)!.location !== storeOf(Number((p.steps[0].order as string).slice(1))).id);
    expect(Math.abs(elsewhere.length / returned.length - RETURN_ELSEWHERE)).toBeLessThan(0.05);
  });

  it('a ship order is shipped and delivered, or cancelled; returns bring back at most what was bought', () => {
    const ships = plans(false, 20_000);
    const allowed = ['order.cancelled', 'order.shipped order.delivered', 'order.shipped order.delivered order.returned'];
    expect(ships.map(types).filter((t) => !allowed.includes(t))).toEqual([]);
    const delivered = ships.filter((p) => p.end !== 'cancelled');
    const returned = delivered.filter((p) => p.end === 'returned' || p.end === 'partially_returned');
    expect(Math.abs(returned.length / delivered.length - SHIP_RETURNED)).toBeLessThan(0.01);
    const sites = new Set(geography.sites.map((s) => s.id));
    for (const p of returned) {
      const step = p.steps.at(-1)!;
      expect(sites.has(step.location as string)).toBe(true);
      const back = step.lines as Array<{ sku: string; qty: number }>;
      for (const l of back) expect(l.qty).toBeLessThanOrEqual(lines.find((b) => b.sku === l.sku)!.qty);
      expect(p.end).toBe(back.length === lines.length && back.every((l) => l.qty === lines.find((b) => b.sku === l.sku)!.qty) ? 'returned' : 'partially_returned');
    }
    expect(returned.some((p) => p.end === 'partially_returned')).toBe(true);
  });
});

describe('orders against omni serve', () => {
  let serve: RunningServe;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'omni-loadgen-orders-'));
    // The default pickup hold (3 days): a hold shorter than the follow-up lag would expire pickups before they are collected.
    serve = await startServe({ dataDir: join(dir, 'data'), secret: SECRET, durability: 'none', workers: 1 });
  }, 60_000);
  afterAll(async () => {
    if (serve) await killHard(serve);
    rmSync(dir, { recursive: true, force: true });
  });

  it('order steps are acknowledged, customers get their order/<id> pushes, associates their store notices', async () => {
    const file = join(dir, 'orders.json');
    // Only orders, all picked up or shipped from 3 stores and a warehouse; every associate and one follower per order.
    writeFileSync(file, JSON.stringify({ scenario: 'omnichannel', mix: { checkout: 1 }, stores: 3, warehouses: 1, skus: 20, pickupShare: 0.6, orderFollowers: 1000 }));
    const token = (role: Role, sub = `${role}-1`, loc?: string) => signToken(loc === undefined ? { role, sub } : { role, sub, loc }, SECRET);
    // Follow-up lag: rate + batch × connections = 500 events, so orders placed early in the 1,500 get two or three steps.
    const { options } = shortRun({ url: serve.url, token }, { durationS: 5, rate: 300, subscribers: 12, skus: 20, scenario: file });
    const { report } = await runLoadgen(options, () => undefined);
    expect(report.failedRequests).toBe(0);
    const orders = report.orders!;
    expect(orders).toBeDefined();
    // Every order step the scenario makes met the server and was accepted (a placing the stock
    // could not cover is refused, and so are that order's later steps).
    for (const type of ['order.placed', 'order.ready', 'order.picked_up', 'order.shipped', 'order.delivered']) expect(orders.events[type]?.acked, type).toBeGreaterThan(0);
    for (const code of Object.keys(orders.errorCodes)) expect(['insufficient_stock', 'unknown_order']).toContain(code);
    expect(report.latencyMs.orderAck!.count).toBe(Object.values(orders.events).reduce((s, c) => s + c.acked + c.errors, 0));
    // Each accepted order was followed by its customer, who saw it and then its steps.
    const f = orders.followers;
    expect(f.errors, f.errorSamples.join('; ')).toBe(0);
    expect(f.skipped).toBe(0);
    expect(f.followed).toBe(orders.events['order.placed'].acked);
    expect(f.snapshots).toBeGreaterThan(0);
    expect(f.byStatus.ready).toBeGreaterThan(0);
    expect(f.byStatus.shipped).toBeGreaterThan(0);
    expect(f.byStatus.completed).toBeGreaterThan(0);
    expect(report.latencyMs.orderPush!.count).toBe(f.updates);
    expect(report.latencyMs.orderSeen!.count).toBe(f.snapshots);
    // Associates (3 of the 12 subscribers) got their stores' pickup notices.
    expect(report.receivedByFamily.store).toBeGreaterThan(0);
    expect(report.subscriberErrors, report.subscriberErrorSamples.join('; ')).toBe(0);
    expect(report.seqErrors).toBe(0);
  }, 90_000);
});
