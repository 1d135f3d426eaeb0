// The scoring parts added to the session k-NN: sequential rules over the neighbours (what they
// clicked right after the current session's last item), IDF weighting of the shared items, and
// the neighbour window's backward side.

import { describe, expect, it } from 'vitest';
import { MapState } from '../engine/staged-state.ts';
import { recommend, recordActivity } from '../engine/customers/recommender/mod.ts';
import { idfWeight, profile, type Neighbour } from '../engine/customers/recommender/neighbours.ts';
import { resolveOptions, type RecommenderOptions } from '../engine/customers/recommender/options.ts';
import type { SessionRecord } from '../engine/customers/recommender/records.ts';
import { scoreItems } from '../engine/customers/recommender/scoring.ts';
import { sequenceScores } from '../engine/customers/recommender/sequence.ts';

const T = Date.UTC(2024, 0, 1);

function rec(...items: string[]): SessionRecord {
  return { i: items, k: items.map(() => 0), t: items.map((_, j) => T + j) };
}

describe('sequential rules over the neighbours', () => {
  it('scores the clicks after the last item 1/distance, within the window only', () => {
    const s = sequenceScores('L', [{ items: rec('X', 'L', 'A', 'B', 'C'), sim: 1 }], 2);
    expect(Object.fromEntries(s)).toEqual({ A: 1, B: 0.5 });
  });

  it('counts an item once per session, at its nearest distance, and stops at the next occurrence of the last item', () => {
    const s = sequenceScores('L', [{ items: rec('L', 'A', 'L', 'B', 'A'), sim: 1 }], 3);
    // From the first L: A at 1, then L ends the run; from the second: B at 1, A at 2.
    expect(Object.fromEntries(s)).toEqual({ A: 1, B: 1 });
  });

  it('adds up over sessions, each times its weight', () => {
    const s = sequenceScores('L', [{ items: rec('L', 'A'), sim: 2 }, { items: rec('L', 'B', 'A'), sim: 0.5 }], 5);
    expect(s.get('A')).toBeCloseTo(2 + 0.25);
    expect(s.get('B')).toBeCloseTo(0.5);
  });
});

describe('IDF of a shared item', () => {
  it('is 1 when off, smaller for commoner items, and its ratios do not change as the store grows', () => {
    expect(idfWeight(10, 0)).toBe(1);
    expect(idfWeight(100, 0.5)).toBeCloseTo(0.1);
    expect(idfWeight(10, 0.4)).toBeGreaterThan(idfWeight(500, 0.4));
    // Eight times the sessions for every item: the same relative weights.
    expect(idfWeight(80, 0.4) / idfWeight(4000, 0.4)).toBeCloseTo(idfWeight(10, 0.4) / idfWeight(500, 0.4));
    // An item with no sessions counted yet weighs as one with one session.
    expect(idfWeight(0, 0.4)).toBe(1);
  });
});

describe('neighbour vote with the sequential rules and the backward side', () => {
  // The current session's last item is L; the one neighbour clicked P, then L, then N: P and N
  // are one click from where they meet, so the symmetric k-NN vote cannot tell them apart.
  const scores = (options: RecommenderOptions) => {
    const o = resolveOptions({ reminder: 0, ...options });
    const p = profile(rec('L'), o);
    const nb: Neighbour = { id: 'n', items: rec('P', 'L', 'N'), sim: 1, match: 1 };
    const m = scoreItems(p, [nb], o);
    return { P: m.get('P')!.score, N: m.get('N')!.score, L: m.get('L')!.score };
  };

  it('ties before and after the meeting point without them', () => {
    const s = scores({ sequenceWeight: 0, backwardWeight: 1 });
    expect(s.N).toBeCloseTo(s.P);
  });

  it('ranks what came after the last item first with the sequential rules', () => {
    const s = scores({ sequenceWeight: 0.1, backwardWeight: 1 });
    expect(s.N).toBeGreaterThan(s.P);
    // The rules add their weight times the top neighbour score (L's, where they meet) to their own best item.
    expect(s.N - s.P).toBeCloseTo(0.1 * s.L);
  });

  it('adds nothing, and no NaN, when every neighbour\'s similarity is 0', () => {
    const o = resolveOptions({ reminder: 0, sequenceWeight: 0.1 });
    const m = scoreItems(profile(rec('L'), o), [{ id: 'n', items: rec('P', 'L', 'N'), sim: 0, match: 1 }], o);
    expect([...m.values()].map((c) => c.score)).toEqual([0, 0, 0]);
  });

  it('weighs the neighbour\'s earlier clicks by backwardWeight', () => {
    const s = scores({ sequenceWeight: 0, backwardWeight: 0.5 });
    expect(s.P).toBeCloseTo(0.5 * s.N);
  });
});

describe('recommend with the default options', () => {
  it('puts what a neighbour clicked after the shared item before what it clicked before it', () => {
    const state = new MapState();
    let t = T;
    // 'Z' follows the shared item X, 'AA' precedes it: the same click distance, and the tie-break
    // by SKU would put AA first.
    for (const sku of ['AA', 'X', 'Z']) recordActivity(state, 'n', sku, 'viewed', (t += 60_000));
    recordActivity(state, 'cur', 'X', 'viewed', (t += 3_600_000));
    const order = (o?: RecommenderOptions) => recommend(state, 'cur', 3, (sku) => sku !== 'X', o).map((r) => r.sku);
    expect(order({ sequenceWeight: 0 })).toEqual(['AA', 'Z']);
    expect(order()).toEqual(['Z', 'AA']);
  });
});
