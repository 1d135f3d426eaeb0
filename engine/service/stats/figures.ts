// From buckets to figures: a window's rows summed per group (and in total), histograms merged
// bin by bin, and the ratios a service manager reads off them.

import type { StateView } from '../../types.ts';
import { bucketsInWindow, windowAndDimension } from '../../windows/mod.ts';
import { addInto, quantile } from './histogram.ts';
import { COUNTERS, DEFAULT_BY, DIMENSIONS, figureKeys, LEVELS, N, type Dimension, type Row, type ServiceFigures, type ServiceStats } from './types.ts';

export interface ServiceStatsRequest {
  window: string;
  minutes: number;
  by: Dimension;
}

/** The request for `window` and `by` (absent or empty: 1h by topic), or a sentence saying what is wrong. */
export function serviceStatsRequest(window: unknown, by: unknown): ServiceStatsRequest | { problem: string } {
  return windowAndDimension(window, by, DIMENSIONS, DEFAULT_BY);
}

interface Sum {
  n: number[];
  fr: Map<number, number>;
  ht: Map<number, number>;
}

const emptySum = (): Sum => ({ n: new Array<number>(COUNTERS).fill(0), fr: new Map(), ht: new Map() });

function addRow(sum: Sum, row: Row): void {
  for (let i = 0; i < COUNTERS; i++) sum.n[i] += row.n[i] ?? 0;
  addInto(sum.fr, row.fr);
  addInto(sum.ht, row.ht);
}

function addSum(total: Sum, sum: Sum): void {
  for (let i = 0; i < COUNTERS; i++) total.n[i] += sum.n[i];
  for (const [bin, count] of sum.fr) total.fr.set(bin, (total.fr.get(bin) ?? 0) + count);
  for (const [bin, count] of sum.ht) total.ht.set(bin, (total.ht.get(bin) ?? 0) + count);
}

/** The figures of the `request.minutes` whole minutes ending with the one `end` falls in; groups ordered by key. */
export function serviceStatsAt(view: StateView, request: ServiceStatsRequest, end: number): ServiceStats {
  const sums = new Map<string, Sum>();
  for (const levels of LEVELS[request.by]) {
    for (const rows of bucketsInWindow<Row[]>(view, levels, end, request.minutes)) {
      for (const row of rows) {
        let sum = sums.get(row.key);
        if (sum === undefined) sums.set(row.key, (sum = emptySum()));
        addRow(sum, row);
      }
    }
  }
  const total = emptySum();
  const groups: ServiceStats['groups'] = [];
  for (const key of [...sums.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sum = sums.get(key)!;
    addSum(total, sum);
    groups.push({ key, ...figuresOf(sum) });
  }
  return { window: request.window, by: request.by, groups, total: figuresOf(total) };
}

function figuresOf({ n, fr, ht }: Sum): ServiceFigures {
  return {
    requests: n[N.requests],
    firstResponseMs: { p50: quantile(fr, 0.5), p90: quantile(fr, 0.9) },
    handleMs: { p50: quantile(ht, 0.5) },
    containment: ratio(n[N.contained], n[N.botAnswered]),
    fcr: ratio(n[N.ended] - n[N.repeats], n[N.ended]),
    abandonment: ratio(n[N.abandoned], n[N.ended]),
    csat: ratio(n[N.satisfied], n[N.ratings]),
    ratings: n[N.ratings],
  };
}

/** part ÷ whole kept in 0..1 (late counts at a window's edge cannot push it out), null when nothing was counted. */
function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.min(1, Math.max(0, part / whole));
}

const TOPIC_REQUEST = serviceStatsRequest('1h', 'topic') as ServiceStatsRequest;

/** `stats/service`: the last hour by topic, ending at the clock of the last change counted. Undefined before any. */
export function renderServiceStats(view: StateView): ServiceStats | undefined {
  const asOf = view.get<number>(figureKeys.asOf);
  return asOf === undefined ? undefined : serviceStatsAt(view, TOPIC_REQUEST, asOf);
}

/**
 * The `stats` query: `window` (`5m` … `24h`, default `1h`) and `by` (`topic` | `channel` |
 * `agent`) ending at `now` (the caller's clock; without one, the last change's). `{ error,
 * message }` for a bad window or dimension.
 */
export function serviceStats(view: StateView, args: Record<string, unknown>): ServiceStats | { error: 'bad_request'; message: string } {
  const request = serviceStatsRequest(args.window, args.by);
  if ('problem' in request) return { error: 'bad_request', message: request.problem };
  const now = typeof args.now === 'number' && Number.isFinite(args.now) ? args.now : (view.get<number>(figureKeys.asOf) ?? 0);
  return serviceStatsAt(view, request, now);
}
