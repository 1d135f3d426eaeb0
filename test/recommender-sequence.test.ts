// The scoring parts added to the session k-NN: sequential rules over the neighbours (what they
// clicked right after the current session's last item), IDF weighting of the shared items, the
// neighbour window's backward side, the neighbours' coverage of an item, and the reminder's
// weight for the last item and its floor for items far back.

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
    const o = resolveOptions({ reminder: 0, coverageWeight: 0, ...options });
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

describe('coverage of an item by the neighbours', () => {
  // One close neighbour clicked C right after L; three weak ones clicked W far from where they meet.
  const neighbours: Neighbour[] = [
    { id: 'close', items: rec('L', 'C'), sim: 1, match: 1 },
    ...['a', 'b', 'c'].map((x) => ({ id: x, items: rec('L', `${x}1`, `${x}2`, `${x}3`, 'W'), sim: 0.2, match: 1 })),
  ];
  const scores = (options: RecommenderOptions) => {
    const o = resolveOptions({ reminder: 0, sequenceWeight: 0, neighbours: 4, ...options });
    const m = scoreItems(profile(rec('L'), o), neighbours, o);
    return { C: m.get('C')!.score, W: m.get('W')!.score, L: m.get('L')!.score };
  };

  it('leaves the decayed vote alone when off', () => {
    const s = scores({ coverageWeight: 0 });
    expect(s.C).toBeGreaterThan(s.W);
  });

  it('adds its weight times the top vote times the share of the k neighbours that had the item', () => {
    const off = scores({ coverageWeight: 0 });
    const on = scores({ coverageWeight: 1 });
    // L, met by all four, has the top vote; k is 4, so W's three voters add 1 × top × 3/4.
    expect(on.W - off.W).toBeCloseTo(off.L * (3 / 4));
    expect(on.C - off.C).toBeCloseTo(off.L * (1 / 4));
    expect(on.W).toBeGreaterThan(on.C);
  });
});

describe('reminder of the session\'s own items', () => {
  // The session clicked F long ago, then M, then L; no neighbour had any of them but L.
  const session = rec('F', 'q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'M', 'L');
  const scores = (options: RecommenderOptions) => {
    const o = resolveOptions({ sequenceWeight: 0, coverageWeight: 0, reminder: 0.4, reminderDecay: 2, reminderLast: 1, reminderFloor: 0, ...options });
    const nb: Neighbour = { id: 'n', items: rec('L', 'N'), sim: 1, match: session.i.length };
    const m = scoreItems(profile(session, o), [nb], o);
    return { F: m.get('F')!.score, M: m.get('M')!.score, L: m.get('L')!.score, N: m.get('N')!.score };
  };

  it('weighs the last item by reminderLast times the reminder', () => {
    const one = scores({ reminderLast: 1 });
    const three = scores({ reminderLast: 3 });
    // L's own vote is the top one (it is where the neighbour meets the session).
    const top = one.L / (1 + 0.4);
    expect(three.L - top).toBeCloseTo(3 * 0.4 * top);
    expect(three.M).toBeCloseTo(one.M);
  });

  it('keeps items far back at the floor, and leaves the near ones decayed', () => {
    const none = scores({ reminderFloor: 0 });
    const floored = scores({ reminderFloor: 0.375 });
    const top = none.L / (1 + 0.4);
    // F is nine clicks back: e^(−9/2) of the reminder without the floor, 0.375 of it with.
    expect(none.F).toBeCloseTo(0.4 * top * Math.exp(-9 / 2));
    expect(floored.F).toBeCloseTo(0.4 * top * 0.375);
    // M, one click back, decays to e^(−1/2) > 0.375: the floor does not touch it.
    expect(floored.M).toBeCloseTo(none.M);
  });

  it('adds nothing at all when the reminder is 0', () => {
    const o = resolveOptions({ sequenceWeight: 0, coverageWeight: 0, reminder: 0, reminderLast: 3, reminderFloor: 0.375 });
    const m = scoreItems(profile(session, o), [{ id: 'n', items: rec('L', 'N'), sim: 1, match: session.i.length }], o);
    expect(m.has('F')).toBe(false);
    expect(m.get('L')!.score).toBeCloseTo(m.get('N')!.score / Math.exp(-1 / 2));
  });
});
