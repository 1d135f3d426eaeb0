// The ranked list behind every lane, against a sorted array: order by key then id, chunks
// split at CHUNK_MAX and dropped when empty, rank and minimum aux read from the header, and
// the stored records never changed in place (they are frozen here, so a write would throw).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceChange } from '../engine/service/change.ts';
import { resolveOptions } from '../engine/service/processor.ts';
import { CHUNK_MAX, entries, find, insert, minAuxOf, rankOf, remove, type ListHeader } from '../engine/service/ranked-list.ts';
import type { StateView } from '../engine/types.ts';
import { FC_SEED } from './service-harness.ts';

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

class Store {
  readonly map = new Map<string, unknown>();
  readonly view: StateView = { get: <T>(k: string) => this.map.get(k) as T | undefined };

  /** One change, committed the way the engine commits effects. */
  change(fn: (c: ServiceChange) => void): void {
    const c = new ServiceChange(this.view, resolveOptions(), 0);
    fn(c);
    for (const [k, v] of c.effects().writes!) {
      if (v === undefined) this.map.delete(k);
      else this.map.set(k, deepFreeze(v));
    }
  }
}

const LIST = 'svc/rl/chat/*/t';
const before = (a: { key: number; id: string }, b: { key: number; id: string }) =>
  a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('ranked list', () => {
  it('stays sorted and consistent through random inserts and removals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 50 })), { minLength: 1, maxLength: 1500 }),
        fc.integer({ min: 1, max: 40 }),
        (ops, perChange) => {
          const s = new Store();
          const model: Array<{ id: string; key: number; aux: number }> = [];
          for (let i = 0; i < ops.length; i += perChange) {
            s.change((c) => {
              for (const [add, n, key] of ops.slice(i, i + perChange)) {
                const id = `r${n}`;
                const at = model.findIndex((e) => e.id === id);
                if (add && at < 0) {
                  insert(c, LIST, id, key, n);
                  model.push({ id, key, aux: n });
                  model.sort(before);
                } else if (!add && at >= 0) {
                  expect(remove(c, LIST, id, model[at].key)).toBe(true);
                  model.splice(at, 1);
                } else if (!add) {
                  expect(remove(c, LIST, id, key)).toBe(false);
                }
              }
            });
          }
          expect(entries(s.view, LIST)).toEqual(model);
          expect(s.view.get<ListHeader>(LIST)?.n ?? 0).toBe(model.length);
          expect(minAuxOf(s.view, LIST)).toBe(model.length ? Math.min(...model.map((e) => e.aux)) : Infinity);
          for (let i = 0; i < model.length; i += 7) expect(rankOf(s.view, LIST, model[i].id, model[i].key)).toBe(i);
          const h = s.view.get<ListHeader>(LIST);
          if (model.length === 0) expect([...s.map.keys()]).toEqual([]);
          else {
            expect(h!.counts.reduce((a, b) => a + b, 0)).toBe(model.length);
            expect(Math.max(...h!.counts)).toBeLessThanOrEqual(CHUNK_MAX);
            expect(s.map.size).toBe(1 + h!.nos.length);
          }
        },
      ),
      { numRuns: 60, seed: FC_SEED },
    );
  });

  it('keeps every record small: a 50,000-entry list changes one header and one chunk per insert', () => {
    const s = new Store();
    s.change((c) => {
      for (let i = 0; i < 50_000; i++) insert(c, LIST, `r${i}`, i * 7919 % 50_000, i);
    });
    const c = new ServiceChange(s.view, resolveOptions(), 0);
    insert(c, LIST, 'late', 25_000.5, 0);
    const writes = c.effects().writes!;
    expect(writes.map(([k]) => k.startsWith('svc/chunk/'))).toEqual([false, true]);
    const bytes = writes.map(([, v]) => JSON.stringify(v).length);
    expect(Math.max(...bytes)).toBeLessThan(16_000);
    expect(find(s.view, LIST, () => true)).toEqual({ id: 'r0', key: 0 });
    expect(find(s.view, LIST, (id) => id !== 'r0')?.key).toBe(1);
  });
});
