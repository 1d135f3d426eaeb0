// What the per-write check lets through to the store: exactly what it can encode and give back.

import { describe, expect, it } from 'vitest';
import { unstorable } from '../engine/storable.ts';

describe('unstorable', () => {
  it('passes plain data, undefined properties and array holes (stored as absent / nil)', () => {
    for (const v of [0, -1.5, 'x', true, null, [], {}, { a: [1, 'b', { c: null }] }, { a: undefined }, [1, undefined, 3], Object.create(null)]) {
      expect(unstorable(v), JSON.stringify(v)).toBeNull();
    }
  });

  it('refuses what the encoder would fail on or change: BigInts, cycles, deep nesting, class instances, functions', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    const cases: Array<[unknown, RegExp]> = [
      [{ n: 1n }, /bigint/],
      [cyclic, /deeper/],
      [deep, /deeper/],
      [{ d: new Date() }, /Date/],
      [{ m: new Map() }, /Map/],
      [[() => 1], /function/],
      [{ s: Symbol('x') }, /symbol/],
    ];
    for (const [v, problem] of cases) expect(unstorable(v)).toMatch(problem);
  });
});
