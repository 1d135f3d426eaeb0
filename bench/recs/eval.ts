// Offline evaluation of the recommender with the standard next-item protocol: learn from the
// training sessions, then replay each test session click by click, asking after each click for 20
// items and checking the next click against them (HR@20, MRR@20 over every click but a session's
// last). Test sessions are learned as they are replayed, as the engine would run: each click is
// recorded before the question that follows it. Everything runs over an in-memory MapState.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { pack } from 'msgpackr';
import { MapState, recommend, recordActivity, type RecommenderOptions } from '../../engine/mod.ts';

export interface Click {
  sku: string;
  /** Epoch ms. */
  time: number;
}

export interface Session {
  session: string;
  clicks: Click[];
}

/** A `SessionId ItemId Time(unix seconds)` TSV with a header (gzipped if it ends in .gz): sessions by first click, clicks in time order. */
export function readSessions(file: string): Session[] {
  const raw = readFileSync(file);
  const lines = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n');
  const bySession = new Map<string, Click[]>();
  for (let j = 1; j < lines.length; j++) {
    const line = lines[j];
    if (line.length === 0) continue;
    const [session, sku, time] = line.split('\t');
    let clicks = bySession.get(session);
    if (clicks === undefined) bySession.set(session, (clicks = []));
    clicks.push({ sku, time: Math.round(Number(time) * 1000) });
  }
  const out: Session[] = [];
  for (const [session, clicks] of bySession) {
    // Stable sort: clicks with equal times keep their file order.
    clicks.sort((a, b) => a.time - b.time);
    out.push({ session, clicks });
  }
  out.sort((a, b) => a.clicks[0].time - b.clicks[0].time || (a.session < b.session ? -1 : a.session > b.session ? 1 : 0));
  return out;
}

/**
 * An internal time split for tuning: the last `share` of the sessions (by first click) become
 * the test set, prepared like the published splits: clicks on items the training part never had
 * are dropped, then sessions left with fewer than two clicks.
 */
export function timeSplit(sessions: Session[], share: number): { train: Session[]; test: Session[] } {
  const cut = Math.floor(sessions.length * (1 - share));
  const train = sessions.slice(0, cut);
  const known = new Set<string>();
  for (const s of train) for (const c of s.clicks) known.add(c.sku);
  const test: Session[] = [];
  for (const s of sessions.slice(cut)) {
    const clicks = s.clicks.filter((c) => known.has(c.sku));
    if (clicks.length >= 2) test.push({ session: s.session, clicks });
  }
  return { train, test };
}

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface EvalResult {
  hr20: number;
  mrr20: number;
  predictions: number;
  /** Per recordActivity call during the test replay, µs. */
  updateUs: Percentiles;
  /** Per recommend call, µs. */
  queryUs: Percentiles;
  /** Keys in the store at the end. */
  keys: number;
  /** Mean records written per recordActivity call during the test replay, by record type. */
  writesPerUpdate: Record<string, number>;
}

/** The record type of a key: its first two segments (`rec/s`, `rec/i`, `rec/c`, `rec/pop`). */
export function recordType(key: string): string {
  const a = key.indexOf('/');
  const b = key.indexOf('/', a + 1);
  return b < 0 ? key : key.slice(0, b);
}

/** A MapState that counts its writes by record type. */
class CountingState extends MapState {
  counting = false;
  readonly writes = new Map<string, number>();
  override put(key: string, value: unknown): void {
    if (this.counting) {
      const t = recordType(key);
      this.writes.set(t, (this.writes.get(t) ?? 0) + 1);
    }
    super.put(key, value);
  }
}

export interface RecordStats {
  count: number;
  /** msgpack-encoded bytes. */
  meanBytes: number;
  maxBytes: number;
}

/** Encoded sizes of the stored records, by record type. */
export function recordStats(state: MapState): Record<string, RecordStats> {
  const acc = new Map<string, { count: number; bytes: number; max: number }>();
  for (const [key, value] of state.map) {
    const t = recordType(key);
    const size = pack(value).length;
    const a = acc.get(t) ?? { count: 0, bytes: 0, max: 0 };
    a.count++;
    a.bytes += size;
    if (size > a.max) a.max = size;
    acc.set(t, a);
  }
  const out: Record<string, RecordStats> = {};
  for (const [t, a] of [...acc].sort()) out[t] = { count: a.count, meanBytes: a.bytes / a.count, maxBytes: a.max };
  return out;
}

function percentiles(us: number[]): Percentiles {
  if (us.length === 0) return { p50: 0, p99: 0 };
  const s = Float64Array.from(us).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

/** Records the training sessions' clicks in event-time order, as a live stream would arrive. */
export function train(state: MapState, sessions: Session[], options?: RecommenderOptions): void {
  const all: Array<{ session: string; click: Click }> = [];
  for (const s of sessions) for (const click of s.clicks) all.push({ session: s.session, click });
  all.sort((a, b) => a.click.time - b.click.time);
  for (const { session, click } of all) recordActivity(state, session, click.sku, 'viewed', click.time, options);
}

const K = 20;

/** Runs the protocol; `into` receives the final store (for record statistics). */
export function evaluate(trainSessions: Session[], test: Session[], options?: RecommenderOptions, into?: { state?: MapState }): EvalResult {
  const state = new CountingState();
  if (into !== undefined) into.state = state;
  train(state, trainSessions, options);
  state.counting = true;
  let hits = 0;
  let rr = 0;
  let predictions = 0;
  const updateUs: number[] = [];
  const queryUs: number[] = [];
  for (const s of test) {
    // A replayed test session could share an id with a training one: keep them apart.
    const id = `test:${s.session}`;
    for (let j = 0; j < s.clicks.length; j++) {
      const c = s.clicks[j];
      let t0 = performance.now();
      recordActivity(state, id, c.sku, 'viewed', c.time, options);
      updateUs.push((performance.now() - t0) * 1000);
      if (j === s.clicks.length - 1) break;
      t0 = performance.now();
      const recs = recommend(state, id, K, undefined, options);
      queryUs.push((performance.now() - t0) * 1000);
      const next = s.clicks[j + 1].sku;
      predictions++;
      const rank = recs.findIndex((r) => r.sku === next);
      if (rank >= 0) {
        hits++;
        rr += 1 / (rank + 1);
      }
    }
  }
  return {
    hr20: hits / predictions,
    mrr20: rr / predictions,
    predictions,
    updateUs: percentiles(updateUs),
    queryUs: percentiles(queryUs),
    keys: state.map.size,
    writesPerUpdate: Object.fromEntries([...state.writes].sort().map(([t, n]) => [t, n / updateUs.length])),
  };
}

/** The classic popularity baseline: the 20 most clicked training items, the same for everyone. */
export function evaluatePopularity(trainSessions: Session[], test: Session[]): { hr20: number; mrr20: number; predictions: number } {
  const counts = new Map<string, number>();
  for (const s of trainSessions) for (const c of s.clicks) counts.set(c.sku, (counts.get(c.sku) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, K).map(([sku]) => sku);
  let hits = 0;
  let rr = 0;
  let predictions = 0;
  for (const s of test) {
    for (let j = 0; j + 1 < s.clicks.length; j++) {
      predictions++;
      const rank = top.indexOf(s.clicks[j + 1].sku);
      if (rank >= 0) {
        hits++;
        rr += 1 / (rank + 1);
      }
    }
  }
  return { hr20: hits / predictions, mrr20: rr / predictions, predictions };
}
