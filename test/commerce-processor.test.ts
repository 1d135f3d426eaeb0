// The commerce processor alone: news of orders (commerce.counted) counted into per-minute buckets
// of placing time, and the figures of the orders placed in a window — exact for a known mix, null
// where nothing was counted, the window's edges to the minute, pruning past 24 h, by location.

import { describe, expect, it } from 'vitest';
import { commerceProcessor, commerceStats, statsRequest, type CommerceCounted } from '../engine/mod.ts';
import { commerceKeys } from '../engine/commerce/mod.ts';
import { PureRunner } from './pure-harness.ts';

const MINUTE = 60_000;
/** A minute boundary: the clock of most checks, so minute arithmetic is plain. */
const T = 28_333_333 * MINUTE;

type Kind = CommerceCounted['kind'];
interface OrderFacts {
  order: string;
  channel: string;
  location: string;
  pickup: boolean;
  placedAt: number;
  revenue?: number;
}

let seq = 0;
function news(o: OrderFacts, kind: Kind, at = o.placedAt): CommerceCounted {
  const { revenue, ...facts } = o;
  return {
    id: `n${++seq}/commerce/${kind}`,
    type: 'commerce.counted',
    ...facts,
    kind,
    at,
    ...(kind === 'placed' && revenue !== undefined ? { revenue } : {}),
  };
}

function runner(now = T): PureRunner {
  const r = new PureRunner(commerceProcessor());
  r.now = now;
  return r;
}

function count(r: PureRunner, ...items: CommerceCounted[]): void {
  for (const item of items) expect(r.applyValid(item).result).toEqual({ ok: true });
}

const stats = (r: PureRunner, args: Record<string, unknown>) => r.processor.query!(r.view, 'stats', args);

const NOTHING = { orders: 0, revenue: 0, aov: null, pickupShare: null, cancelRate: null, expiredRate: null, returnRate: null, crossChannel: null };

/** Five orders placed over the last half hour, and what became of them. */
function knownMix(r: PureRunner): void {
  const placed = (minutesAgo: number) => T - minutesAgo * MINUTE + 1_000;
  const o1 = { order: 'o1', channel: 'web', location: 'store-1', pickup: true, placedAt: placed(30), revenue: 1000 };
  const o2 = { order: 'o2', channel: 'web', location: 'wh-1', pickup: false, placedAt: placed(20), revenue: 3000 };
  const o3 = { order: 'o3', channel: 'app', location: 'store-1', pickup: true, placedAt: placed(10), revenue: 500 };
  const o4 = { order: 'o4', channel: 'app', location: 'wh-1', pickup: false, placedAt: placed(5) };
  const o5 = { order: 'o5', channel: 'store', location: 'store-2', pickup: true, placedAt: placed(1), revenue: 2000 };
  count(r, ...[o1, o2, o3, o4, o5].map((o) => news(o, 'placed')));
  // Later news is counted with the order's placing, whenever it comes.
  count(
    r,
    news(o1, 'fulfilled', T - 60_000),
    news(o1, 'cross', T - 60_000),
    news(o1, 'returned', T - 30_000),
    news(o2, 'fulfilled', T - 50_000),
    news(o3, 'expired', T - 20_000),
    news(o4, 'cancelled', T - 10_000),
    news(o5, 'fulfilled', T - 5_000),
  );
}

describe('commerce figures', () => {
  it('are exact for a known mix of orders, per channel and in total', () => {
    const r = runner();
    knownMix(r);
    expect(stats(r, { window: '1h', by: 'channel', now: T })).toEqual({
      window: '1h',
      by: 'channel',
      groups: [
        { key: 'app', orders: 2, revenue: 500, aov: 500, pickupShare: 0.5, cancelRate: 0.5, expiredRate: 1, returnRate: null, crossChannel: 0 },
        { key: 'store', orders: 1, revenue: 2000, aov: 2000, pickupShare: 1, cancelRate: 0, expiredRate: 0, returnRate: 0, crossChannel: 0 },
        { key: 'web', orders: 2, revenue: 4000, aov: 2000, pickupShare: 0.5, cancelRate: 0, expiredRate: 0, returnRate: 0.5, crossChannel: 0.5 },
      ],
      total: { orders: 5, revenue: 6500, aov: 1625, pickupShare: 0.6, cancelRate: 0.2, expiredRate: 1 / 3, returnRate: 1 / 3, crossChannel: 0.2 },
    });
  });

  it('are cut by location when asked, with the same total', () => {
    const r = runner();
    knownMix(r);
    const answer = stats(r, { window: '1h', by: 'location', now: T }) as { groups: unknown[]; total: unknown };
    expect(answer).toMatchObject({ window: '1h', by: 'location' });
    expect(answer.groups).toEqual([
      { key: 'store-1', orders: 2, revenue: 1500, aov: 750, pickupShare: 1, cancelRate: 0, expiredRate: 0.5, returnRate: 1, crossChannel: 0.5 },
      { key: 'store-2', orders: 1, revenue: 2000, aov: 2000, pickupShare: 1, cancelRate: 0, expiredRate: 0, returnRate: 0, crossChannel: 0 },
      { key: 'wh-1', orders: 2, revenue: 3000, aov: 3000, pickupShare: 0, cancelRate: 0.5, expiredRate: null, returnRate: 0, crossChannel: 0 },
    ]);
    expect(answer.total).toEqual((stats(r, { window: '1h', now: T }) as { total: unknown }).total);
  });

  it('are null ratios and zero counts when nothing was counted, and the topic has no state yet', () => {
    const r = runner();
    expect(stats(r, { now: T })).toEqual({ window: '1h', by: 'channel', groups: [], total: NOTHING });
    expect(r.processor.render(r.view, 'stats/commerce')).toBeUndefined();
    // Orders, but none with prices, none picked up, none fulfilled.
    const o = { order: 'x', channel: 'phone', location: 'wh-1', pickup: false, placedAt: T - 1 };
    count(r, news(o, 'placed'));
    expect((stats(r, { now: T }) as { total: unknown }).total).toEqual({ ...NOTHING, orders: 1, pickupShare: 0, cancelRate: 0, crossChannel: 0 });
  });

  it('count the orders placed in the whole minutes of the window, the current one included', () => {
    const r = runner();
    const at = (ms: number, order: string) => news({ order, channel: 'web', location: 's', pickup: false, placedAt: ms }, 'placed');
    // The 1 h window at T + 30 s covers minutes T−59 … T, i.e. placing times [T − 59 min, T + 1 min).
    count(r, at(T - 59 * MINUTE, 'first-in'), at(T - 59 * MINUTE - 1, 'just-out'), at(T + MINUTE - 1, 'last-in'), at(T - 4 * MINUTE, 'recent'));
    const orders = (window: string, now: number) => (stats(r, { window, now }) as { total: { orders: number } }).total.orders;
    expect(orders('1h', T + 30_000)).toBe(3);
    expect(orders('60m', T + 30_000)).toBe(3);
    expect(orders('5m', T + 30_000)).toBe(2);
    expect(orders('1m', T + 30_000)).toBe(1);
    expect(orders('24h', T + 30_000)).toBe(4);
    // The window slides with the clock: a minute later the oldest has left the hour.
    expect(orders('1h', T + MINUTE)).toBe(2);
    // Nothing placed after the window's end counts.
    expect(orders('24h', T - 5 * MINUTE)).toBe(2);
  });

  it('keep 24 h of buckets: older ones are deleted as news arrives, and news of an order placed before them is dropped', () => {
    const r = runner();
    const o = (order: string, placedAt: number) => ({ order, channel: 'web', location: 's', pickup: true, placedAt });
    const old = o('old', T - 10 * MINUTE);
    count(r, news(old, 'placed'));
    expect(r.state.get(commerceKeys.minutes)).toEqual([T / MINUTE - 10]);

    // The old bucket is kept as long as the 24 h ending with the clock's minute reach it …
    const DAY = 24 * 60 * MINUTE;
    r.now = T + DAY - 11 * MINUTE;
    count(r, news(o('new-1', r.now), 'placed'));
    expect(r.state.get(commerceKeys.minutes)).toEqual([T / MINUTE - 10, r.now / MINUTE]);
    // … and deleted by the first news counted once they do not.
    r.now = T + DAY - 10 * MINUTE;
    count(r, news(o('new-2', r.now), 'placed'));
    expect(r.state.has(commerceKeys.bucket(T / MINUTE - 10))).toBe(false);
    expect(r.state.get(commerceKeys.minutes)).toEqual([r.now / MINUTE - 1, r.now / MINUTE]);
    // The old order's later news has nowhere to go: dropped, not counted anywhere.
    count(r, news(old, 'expired', r.now));
    expect(r.state.get(commerceKeys.minutes)).toEqual([r.now / MINUTE - 1, r.now / MINUTE]);
    // Its hour's bucket stays while a minute of that hour is kept: no window reads it whole.
    expect(r.state.get(commerceKeys.hours)).toEqual([Math.floor((T / MINUTE - 10) / 60), Math.floor(r.now / MINUTE / 60)]);
    expect((stats(r, { window: '24h', now: r.now }) as { total: unknown }).total).toEqual({
      ...NOTHING,
      orders: 2,
      pickupShare: 1,
      cancelRate: 0,
      expiredRate: 0,
      crossChannel: 0,
    });
  });

  it('agree with a count of every order placed in the window, for windows of minutes and of hours', () => {
    // A small deterministic generator: the same news every run.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const r = runner();
    const kept: Array<{ minute: number; channel: string; revenue: number }> = [];
    const channels = ['app', 'store', 'web'];
    // 30 hours of clock, a news every few minutes, some placed up to 3 hours back.
    for (let i = 0; i < 600; i++) {
      r.now = T + i * 3 * MINUTE + random(MINUTE);
      const placedAt = r.now - random(3 * 60) * MINUTE - random(MINUTE);
      const channel = channels[random(3)];
      const revenue = 100 * (1 + random(9));
      count(r, news({ order: `o${i}`, channel, location: 's', pickup: false, placedAt, revenue }, 'placed'));
      kept.push({ minute: Math.floor(placedAt / MINUTE), channel, revenue });
    }
    const end = r.now;
    for (const window of ['1m', '59m', '60m', '61m', '2h', '150m', '6h', '1439m', '24h']) {
      for (const lag of [0, 17, 60, 600]) {
        const now = end + lag * MINUTE;
        const minutes = (statsRequest(window, 'channel') as { minutes: number }).minutes;
        const last = Math.floor(now / MINUTE);
        const inWindow = kept.filter((k) => k.minute > last - minutes && k.minute <= last && k.minute > Math.floor(end / MINUTE) - 24 * 60);
        const expected = channels
          .map((key) => {
            const of = inWindow.filter((k) => k.channel === key);
            return { key, orders: of.length, revenue: of.reduce((sum, k) => sum + k.revenue, 0) };
          })
          .filter((g) => g.orders > 0);
        const answer = stats(r, { window, now }) as { groups: Array<{ key: string; orders: number; revenue: number }> };
        expect(answer.groups.map(({ key, orders, revenue }) => ({ key, orders, revenue })), `${window} at +${lag} min`).toEqual(expected);
      }
    }
  });

  it('drop news of an order placed more than a day ahead of the clock', () => {
    const r = runner();
    count(r, news({ order: 'f', channel: 'web', location: 's', pickup: false, placedAt: T + 24 * 60 * MINUTE }, 'placed'));
    expect(r.state.get(commerceKeys.minutes)).toBeUndefined();
    count(r, news({ order: 'g', channel: 'web', location: 's', pickup: false, placedAt: T + 24 * 60 * MINUTE - 1 }, 'placed'));
    expect(r.state.get(commerceKeys.minutes)).toEqual([T / MINUTE + 24 * 60 - 1]);
  });

  it('render the state topic as the last hour by channel, ending at the clock of the last news', () => {
    const r = runner();
    knownMix(r);
    expect(r.processor.render(r.view, 'stats/commerce')).toEqual(stats(r, { window: '1h', by: 'channel', now: T }));
    // Without a clock the query ends where the topic does.
    expect(stats(r, { by: 'location' })).toEqual(stats(r, { window: '1h', by: 'location', now: T }));
    // Every news touches the topic.
    const effects = r.applyValid(news({ order: 'z', channel: 'web', location: 's', pickup: false, placedAt: 0 }, 'placed'));
    expect(effects.changed).toEqual(['stats/commerce']);
  });

  it('refuse windows outside 1 minute to 24 hours and unknown dimensions', () => {
    for (const window of ['0m', '25h', '1441m', '1d', 'h', '1.5h', ' 1h', '01h', 60]) {
      expect(statsRequest(window, 'channel'), String(window)).toHaveProperty('problem');
      expect(commerceStats(runner().view, { window, now: T })).toMatchObject({ error: 'bad_request' });
    }
    for (const by of ['sku', 'Channel', 1]) expect(statsRequest('1h', by)).toHaveProperty('problem');
    expect(statsRequest('24h', 'location')).toEqual({ window: '24h', minutes: 1440, by: 'location' });
    expect(statsRequest('1440m', undefined)).toEqual({ window: '1440m', minutes: 1440, by: 'channel' });
    expect(statsRequest(undefined, '')).toEqual({ window: '1h', minutes: 60, by: 'channel' });
  });
});
