// The commerce processor: the figures a retailer runs on (orders, revenue, average order value,
// pickup share, cancel / expiry / return rates, cross-channel share) over sliding windows of up
// to 24 h, durable in state. Pure. It owns no event a sender may send: the order partitions tell
// it each order's news (commerce.counted), all on one partition, as every window sums every order.

import type { Processor, StateView } from '../types.ts';
import { countNews } from './buckets.ts';
import { statsAt } from './figures.ts';
import { COMMERCE_PARTITION, COMMERCE_TOPIC, keys, type CommerceCounted, type CommerceStats } from './types.ts';
import { statsRequest, type StatsRequest } from './window.ts';

export const COMMERCE_PROCESSOR = 'commerce';

/** The state topic: the last hour by channel. */
const TOPIC_REQUEST = statsRequest('1h', 'channel') as StatsRequest;

export function commerceProcessor(): Processor {
  return {
    name: COMMERCE_PROCESSOR,
    types: [],
    internalTypes: ['commerce.counted'],
    topicPrefixes: [COMMERCE_TOPIC],
    schemas: {},
    partitionKey: () => COMMERCE_PARTITION,

    apply(view, ev, ctx) {
      return { result: { ok: true }, writes: countNews(view, ev as CommerceCounted, ctx.now), changed: [COMMERCE_TOPIC] };
    },

    timerKey: () => COMMERCE_PARTITION,

    onTimer() {
      return {};
    },

    render(view, topic) {
      return topic === COMMERCE_TOPIC ? renderCommerceTopic(view) : undefined;
    },

    query(view, name, args) {
      if (name !== 'stats') return undefined;
      return commerceStats(view, args);
    },
  };
}

/**
 * `stats/commerce`: the last hour by channel, ending at the clock of the last news counted (a
 * render has no clock of its own). Undefined before any news.
 */
export function renderCommerceTopic(view: StateView): CommerceStats | undefined {
  const asOf = view.get<number>(keys.asOf);
  return asOf === undefined ? undefined : statsAt(view, TOPIC_REQUEST, asOf);
}

/**
 * The `stats` query: `window` (`5m` … `24h`, default `1h`) and `by` (`channel` | `location`)
 * ending at `now` (the caller's clock; without one, the last news's). `{ error, message }` for a
 * bad window or dimension.
 */
export function commerceStats(view: StateView, args: Record<string, unknown>): CommerceStats | { error: 'bad_request'; message: string } {
  const request = statsRequest(args.window, args.by);
  if ('problem' in request) return { error: 'bad_request', message: request.problem };
  const now = typeof args.now === 'number' && Number.isFinite(args.now) ? args.now : (view.get<number>(keys.asOf) ?? 0);
  return statsAt(view, request, now);
}
