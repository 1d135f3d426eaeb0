// `omni bench erasure`: the erased customer's history (its size, its waves in the order they must
// be sent), the before / during / after split of the other traffic's acks, and a tiny real run
// against `omni serve` that must erase everything of the customer and give finite figures
// (nothing is asserted about how fast).

import { describe, expect, it } from 'vitest';
import { UsageError } from '../bench/shared/flags.ts';
import { erasureHeadline, readErasureOptions, runErasureBench } from '../bench/erasure/erasure.ts';
import { BackgroundTraffic, customerHistory, storeEventCount, storeWaves } from '../bench/erasure/history.ts';
import type { ErasureBenchOptions } from '../bench/erasure/measure.ts';
import { ErasureWindows } from '../bench/erasure/windows.ts';

const store = { skus: 30, stores: 12, customers: 10 };

describe('the erased customer history', () => {
  it('has exactly the events asked for, unique ids, and every event after the one it depends on', () => {
    const h = customerHistory({ events: 10_000, sessionLength: 50, messagesPerRequest: 20 }, store, 't');
    const all = h.waves.flat();
    expect(all).toHaveLength(10_000);
    expect(new Set(all.map((e) => e.id)).size).toBe(10_000);
    const c = h.counts;
    expect(c.activities + c.requests * 22 + c.orders * 2 + c.earned + c.redeemed + 2).toBe(10_000);
    expect(c.sessions).toBe(Math.ceil(c.activities / 50));
    const waveOf = (pred: (e: (typeof all)[number]) => boolean) => h.waves.findIndex((w) => w.some(pred));
    for (const request of h.requests) {
      const requested = waveOf((e) => e.type === 'service.requested' && e.request === request);
      expect(waveOf((e) => e.type === 'service.message' && e.request === request)).toBeGreaterThan(requested);
      expect(waveOf((e) => e.type === 'service.completed' && e.request === request)).toBeGreaterThan(requested + 1);
    }
    for (const order of h.orders) expect(waveOf((e) => e.type === 'order.fulfilled' && e.order === order)).toBeGreaterThan(waveOf((e) => e.type === 'order.placed' && e.order === order));
    // Every event names one of the customer's ids (or its requests and orders), all linked in the first wave.
    expect(h.waves[0][0]).toMatchObject({ type: 'identity.linked', customer: h.customer });
    // Orders are picked up at stores, never at the warehouses (every tenth location).
    expect(all.filter((e) => e.type === 'order.placed').every((e) => !String(e.pickup).endsWith('9'))).toBe(true);
    // Sessions: activities a minute apart, two hours between sessions (the engine's gap is 30 min).
    const times = all.filter((e) => String(e.type).startsWith('activity.')).map((e) => e.ts as number);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps.filter((g) => g > 30 * 60_000)).toHaveLength(c.sessions - 1);
    expect(Math.max(...times)).toBeLessThan(Date.now());
  });

  it('sets up the store in waves of the stated size, and mixes the other traffic between stock and customers', () => {
    expect([...storeWaves(store, 't')].reduce((n, w) => n + [...w].length, 0)).toBe(storeEventCount(store));
    const traffic = new BackgroundTraffic(store, 't');
    const events = Array.from({ length: 1000 }, () => traffic.next());
    expect(new Set(events.map((e) => e.id)).size).toBe(1000);
    expect(events.filter((e) => e.type === 'activity.viewed')).toHaveLength(500);
  });
});

describe('windows', () => {
  it('puts each ack before, during or after the erasure by whether its wait overlapped it', () => {
    const w = new ErasureWindows(100);
    w.record(50, 60, true); // due in the warm-up: nowhere
    w.record(200, 210, true); // before
    w.record(990, 1010, false); // waited into the erasure: during
    w.record(1500, 1600, true); // during
    w.record(1900, 2500, true); // due during, answered after: during
    w.record(2100, 2110, true); // after
    const split = w.split(1000, 2000);
    expect([split.before.count, split.during.count, split.after.count]).toEqual([1, 3, 1]);
    expect(split.during).toMatchObject({ errors: 1, max: 600 });
    expect(split.before.max).toBe(10);
  });
});

describe('options', () => {
  it('defaults to a 10,000-event history among 20,000 other customers, other traffic at 100/s', () => {
    expect(readErasureOptions([])).toMatchObject({ events: 10_000, customers: 20_000, rate: 100, durability: 'fsync' });
    expect(() => readErasureOptions(['--history', '5'])).toThrow(UsageError);
  });
});

describe('a tiny real run', () => {
  it('erases everything of the customer while the other traffic is answered in every window', async () => {
    const argv = ['--history', '300', '--messages', '3', '--customers', '20', '--skus', '20', '--stores', '3', '--warmup', '0', '--before', '1', '--after', '1', '--rate', '50', '--durability', 'none'];
    const r = await runErasureBench(readErasureOptions(argv) as ErasureBenchOptions);
    expect(r.history).toMatchObject({ events: 300, rejected: 0 });
    // The engine cut the sessions the history was made of, and the erasure found each part.
    const c = r.history.counts;
    expect(r.answer).toMatchObject({ ok: true, erased: { ids: 4, sessions: c.sessions, orders: c.orders, requests: c.requests, messages: c.messages } });
    expect(r.leftReadable).toEqual({ ids: 0, requests: 0, ordersNamingCustomer: 0 });
    // The server rewrites its store after an erasure: the bench sees data.mdb replaced.
    expect(r.rewrite?.swappedSeenAfterMs).toBeGreaterThan(0);
    expect(r.traffic.errors).toBe(0);
    expect(r.windows.before.count).toBeGreaterThan(0);
    expect(r.windows.after.count).toBeGreaterThan(0);
    expect(r.before.stateEntries).toBeGreaterThan(0);
    expect(r.after.stateEntries).toBeGreaterThan(0);
    for (const v of Object.values(erasureHeadline(r))) expect(Number.isFinite(v)).toBe(true);
  }, 120_000);
});
