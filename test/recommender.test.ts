import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, readSessions } from '../bench/recs/eval.ts';
import { MapState } from '../engine/staged-state.ts';
import {
  ITEM_BUCKETS,
  recKeys,
  recommend,
  recordActivity,
  sessionItems,
  type ActivityKind,
  type IndexChunk,
  type ItemHead,
  type RecommenderOptions,
  type SessionRecord,
} from '../engine/customers/recommender/mod.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

function deepFreeze(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** Every stored value frozen, as the engine's cached values must be treated: an in-place edit throws. */
class FrozenState extends MapState {
  override put(key: string, value: unknown): void {
    super.put(key, deepFreeze(value));
  }
}

type Act = string | [string, ActivityKind];

/** Records whole sessions, one minute between clicks, each session an hour after the last. */
function record(state: MapState, sessions: Record<string, Act[]>, options?: RecommenderOptions, start = T0): void {
  let t = start;
  for (const [id, acts] of Object.entries(sessions)) {
    for (const a of acts) {
      const [sku, kind] = typeof a === 'string' ? [a, 'viewed' as const] : a;
      recordActivity(state, id, sku, kind, (t += MIN), options);
    }
    t += 60 * MIN;
  }
}

const skus = (recs: Array<{ sku: string }>) => recs.map((r) => r.sku);
const rank = (recs: Array<{ sku: string }>, sku: string) => skus(recs).indexOf(sku);

describe('recommender', () => {
  it('ranks what neighbour sessions went on to', () => {
    const s = new FrozenState();
    record(s, { n1: ['A', 'B'], n2: ['A', 'B'], n3: ['A', 'C'], n4: ['D', 'E'], cur: ['A'] });
    const recs = recommend(s, 'cur', 10);
    expect(rank(recs, 'B')).toBeGreaterThanOrEqual(0);
    expect(rank(recs, 'B')).toBeLessThan(rank(recs, 'C'));
    // E is no neighbour's: it comes only from the popularity fill, after every neighbour item.
    expect(rank(recs, 'E')).toBeGreaterThan(rank(recs, 'C'));
    for (let j = 1; j < recs.length; j++) expect(recs[j].score).toBeLessThanOrEqual(recs[j - 1].score);
  });

  it('weighs the latest click most', () => {
    const s = new FrozenState();
    record(s, { n1: ['X', 'P'], n2: ['Y', 'Q'], cur: ['X', 'Y'] });
    const recs = recommend(s, 'cur', 10);
    expect(rank(recs, 'Q')).toBeLessThan(rank(recs, 'P'));
    // The session's own latest item leads: shoppers often click it again.
    expect(recs[0].sku).toBe('Y');
  });

  it('weighs carts and purchases more than views', () => {
    const strong: RecommenderOptions = { kindWeights: { carted: 10, purchased: 10 } };
    const s = new FrozenState();
    record(s, { n1: ['X', 'P'], n2: ['Y', 'Q'], bought: [['X', 'purchased'], 'Y'], viewed: ['X', 'Y'] }, strong);
    // The purchase outweighs the later view; the same clicks as views do not.
    expect(rank(recommend(s, 'bought', 10, undefined, strong), 'P')).toBeLessThan(rank(recommend(s, 'bought', 10, undefined, strong), 'Q'));
    expect(rank(recommend(s, 'viewed', 10, undefined, strong), 'Q')).toBeLessThan(rank(recommend(s, 'viewed', 10, undefined, strong), 'P'));

    // On the neighbours' side, with the default weights: what a neighbour carted beats what it viewed.
    const t = new FrozenState();
    record(t, { n1: ['A', 'P'], n2: ['A', ['Q', 'carted']], cur: ['A'] });
    const recs = recommend(t, 'cur', 10);
    expect(rank(recs, 'Q')).toBeLessThan(rank(recs, 'P'));
  });

  it('leaves out what accept refuses and still fills the list', () => {
    const s = new FrozenState();
    record(s, { n1: ['A', 'B', 'C'], n2: ['A', 'B'], p1: ['X', 'Y', 'Z'], p2: ['X', 'Y'], p3: ['W'], cur: ['A'] });
    const all = recommend(s, 'cur', 5);
    expect(all).toHaveLength(5);
    const asked: string[] = [];
    const recs = recommend(s, 'cur', 5, (sku) => {
      asked.push(sku);
      return sku !== 'B' && sku !== 'X';
    });
    expect(recs).toHaveLength(5);
    expect(skus(recs)).not.toContain('B');
    expect(skus(recs)).not.toContain('X');
    // The neighbours' items first, then popular ones.
    expect(skus(recs).slice(0, 2)).toEqual(['A', 'C']);
    expect(skus(recs).slice(2).sort()).toEqual(['W', 'Y', 'Z']);
    // Only what could enter the list is asked about, each once.
    expect(new Set(asked).size).toBe(asked.length);
  });

  it('answers an empty session with event-time popularity', () => {
    const s = new FrozenState();
    // OLD had more clicks, days earlier; NEW fewer but recent: with a one-day half-life NEW leads.
    record(s, { a: ['OLD', 'OLD'], b: ['OLD', 'OLD'] }, undefined, T0);
    record(s, { c: ['NEW'], d: ['NEW'] }, undefined, T0 + 3 * DAY);
    expect(skus(recommend(s, 'nobody', 2))).toEqual(['NEW', 'OLD']);
    const slow: RecommenderOptions = { popularityHalfLifeMs: 1000 * DAY };
    const t = new FrozenState();
    record(t, { a: ['OLD', 'OLD'], b: ['OLD', 'OLD'] }, slow, T0);
    record(t, { c: ['NEW'], d: ['NEW'] }, slow, T0 + 3 * DAY);
    expect(skus(recommend(t, 'nobody', 2, undefined, slow))).toEqual(['OLD', 'NEW']);
    expect(recommend(new MapState(), 'nobody', 5)).toEqual([]);
  });

  it('breaks ties by SKU', () => {
    const s = new FrozenState();
    record(s, { n1: ['A', 'M'], n2: ['A', 'K'], cur: ['A'] });
    // The two neighbours mirror each other but for time; without the recency decay M and K tie.
    const o: RecommenderOptions = { recencyMs: 0 };
    const recs = recommend(s, 'cur', 3, undefined, o);
    expect(recs[1].score).toBe(recs[2].score);
    expect(skus(recs)).toEqual(['A', 'K', 'M']);
  });

  it('keeps every record bounded', () => {
    const o: RecommenderOptions = { itemSessionsKept: 8, chunkSize: 4, sessionKept: 5, popularKept: 3 };
    const s = new FrozenState();
    const hot = () => {
      const head = s.get<ItemHead>(recKeys.item('HOT'))!;
      expect(head.s.length).toBeLessThanOrEqual(4);
      const ids: string[] = [...head.s];
      for (const [key, value] of s.map) {
        if (!key.startsWith('rec/c/') || !key.endsWith('/HOT')) continue;
        expect((value as IndexChunk).s.length).toBeLessThanOrEqual(4);
        ids.push(...(value as IndexChunk).s);
      }
      return ids;
    };
    for (let j = 0; j < 30; j++) {
      record(s, { [`s${j}`]: ['HOT', `U${j}`] }, o, T0 + j * 60 * MIN);
      expect(hot().length).toBeLessThanOrEqual(8);
    }
    // The ring drops a whole chunk at a time: between cap − chunk + 1 and cap entries, the latest.
    const kept = hot().map((id) => Number(id.slice(1)));
    expect(kept.length).toBeGreaterThanOrEqual(5);
    expect(kept.sort((a, b) => a - b)).toEqual(Array.from({ length: kept.length }, (_, j) => 30 - kept.length + j));
    record(s, { long: Array.from({ length: 12 }, (_, j) => `L${j}`) }, o, T0 + 40 * 60 * MIN);
    expect(s.get<SessionRecord>(recKeys.session('long'))!.i).toEqual(['L7', 'L8', 'L9', 'L10', 'L11']);
    expect(sessionItems(s, 'long').map((a) => a.sku)).toEqual(['L7', 'L8', 'L9', 'L10', 'L11']);
    // Each item bucket keeps its own top list, of at most `popularKept`.
    const lists = Array.from({ length: ITEM_BUCKETS }, (_, b) => s.get<{ i: string[] }>(recKeys.popular(b))?.i ?? []);
    expect(Math.max(...lists.map((l) => l.length))).toBe(3);
    // A query still works from what is kept: the latest sessions' other items.
    expect(skus(recommend(s, 's29', 3, undefined, o))).toContain('U28');
  });

  it('lists a session in order with its kinds', () => {
    const s = new FrozenState();
    record(s, { a: ['X', ['Y', 'carted'], ['Y', 'purchased']] });
    expect(sessionItems(s, 'a')).toEqual([
      { sku: 'X', kind: 'viewed', time: T0 + MIN },
      { sku: 'Y', kind: 'carted', time: T0 + 2 * MIN },
      { sku: 'Y', kind: 'purchased', time: T0 + 3 * MIN },
    ]);
    expect(sessionItems(s, 'none')).toEqual([]);
  });

  it('writes nothing when recommending, and answers the same twice', () => {
    const s = new FrozenState();
    record(s, { n1: ['A', 'B', 'C'], n2: ['B', 'D'], cur: ['A', 'B'] });
    const before = new Map(s.map);
    const view = { get: <T>(key: string) => s.get<T>(key) };
    const first = recommend(view, 'cur', 10, (sku) => sku !== 'C');
    expect(recommend(view, 'cur', 10, (sku) => sku !== 'C')).toEqual(first);
    recommend(view, 'nobody', 10);
    expect(s.map).toEqual(before);
    for (const [k, v] of before) expect(s.map.get(k)).toBe(v);
  });
});

// YooChoose's train_tr and the first 1,000 sessions of train_valid, kept in the repository
// (test/fixtures/yoochoose/README.md) so the test runs wherever it is checked out.
const DATA = join(import.meta.dirname, 'fixtures/yoochoose');

describe('recommender on YooChoose', () => {
  it('beats the reference V-SKNN on the first 1,000 validation sessions', () => {
    const train = readSessions(join(DATA, 'train_tr.tsv.gz'));
    const test = readSessions(join(DATA, 'valid_first1000.tsv.gz'));
    expect(test).toHaveLength(1000);
    const r = evaluate(train, test);
    expect(r.predictions).toBe(2797);
    // The run is deterministic: this slice gives HR@20 0.682 and MRR@20 0.379 with the default
    // options. The floors are the reference V-SKNN's full-run figures (0.648 / 0.360; popularity
    // is 0.090 / 0.018), so a change that loses the lead over it on this slice fails here.
    expect(r.hr20).toBeGreaterThan(0.65);
    expect(r.mrr20).toBeGreaterThan(0.36);
  });
});
