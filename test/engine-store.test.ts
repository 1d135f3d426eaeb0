// The state layers and timers of engine/store.ts and engine/timers.ts, without the engine: what
// readers see while several batches are applied but not yet durable, and what a restart loads.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore, WriteSet } from '../engine/store.ts';
import { TimerQueue } from '../engine/timers.ts';

let dir: string;
let store: StateStore;
const open = (cacheEntries = 1000) => new StateStore({ path: dir, durability: 'none', cacheEntries });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omni-store-'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function commitAndRelease(set: WriteSet): Promise<void> {
  await store.commit(set, () => {});
  store.release(set);
}

describe('state layers', () => {
  it('a key deleted, re-created and deleted again by three pending batches stays deleted', async () => {
    store = open();
    const s0 = new WriteSet(0);
    store.write(s0, 'res/R', { qty: 2 });
    await commitAndRelease(s0);
    const [s1, s2, s3] = [new WriteSet(1), new WriteSet(2), new WriteSet(3)];
    store.write(s1, 'res/R', undefined);
    store.write(s2, 'res/R', { qty: 2 });
    store.write(s3, 'res/R', undefined);
    await store.commit(s1, () => {});
    store.release(s1);
    expect(store.latest.get('res/R')).toBeUndefined();
    await store.commit(s2, () => {});
    store.release(s2);
    // s3 is not durable yet: readers of the latest state must still see its delete
    expect(store.latest.get('res/R')).toBeUndefined();
    expect(store.durable.get('res/R')).toEqual({ qty: 2 });
    await commitAndRelease(s3);
    expect(store.durable.get('res/R')).toBeUndefined();
  });

  it('the durable view keeps the last durable value of a pending key even when the cache is full', async () => {
    store = open(4);
    const s0 = new WriteSet(0);
    store.write(s0, 'Z', 'old');
    await commitAndRelease(s0);
    const s1 = new WriteSet(1);
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) store.write(s1, k, k);
    const s2 = new WriteSet(2);
    store.write(s2, 'Z', 'new');
    // Both are in LMDB now, but not released: the durable view must not show them.
    await store.commit(s1, () => {});
    await store.commit(s2, () => {});
    expect(store.durable.get('Z')).toBe('old');
    expect(store.latest.get('Z')).toBe('new');
    store.release(s1);
    store.release(s2);
    expect(store.durable.get('Z')).toBe('new');
  });
});

describe('the committed cache', () => {
  it('keeps a value read again and again while one-off keys pass through, and never serves a stale one', async () => {
    store = open(8);
    const s0 = new WriteSet(0);
    store.write(s0, 'hot', 1);
    for (let i = 0; i < 50; i++) store.write(s0, `k${i}`, i);
    await commitAndRelease(s0);
    const reads: string[] = [];
    const lmdbGet = store.state.get.bind(store.state);
    (store.state as any).get = (key: string) => {
      reads.push(key);
      return lmdbGet(key);
    };
    for (let i = 0; i < 50; i++) {
      expect(store.durable.get('hot')).toBe(1);
      expect(store.durable.get(`k${i}`)).toBe(i);
    }
    // Read from LMDB once at most, however many one-off keys passed through the cache.
    expect(reads.filter((k) => k === 'hot').length).toBeLessThanOrEqual(1);
    // A new value released while the old one may sit in the older generation wins.
    const s1 = new WriteSet(1);
    store.write(s1, 'hot', 2);
    await commitAndRelease(s1);
    for (let i = 0; i < 20; i++) {
      expect(store.durable.get('hot')).toBe(2);
      store.durable.get(`k${i}`);
    }
  });
});

describe('timers', () => {
  it('a timer stored while it was being fired still fires after a restart', async () => {
    store = open();
    const timers = new TimerQueue(store);
    const set = new WriteSet(1);
    timers.set(set, { at: 100, processor: 'stock', id: 'res/R', data: { reservation: 'R' } });
    expect(timers.takeDue(100)).toHaveLength(1); // taken for firing before its batch is stored
    await store.commit(set, () => {});
    const reloaded = new TimerQueue(store);
    reloaded.load();
    expect(reloaded.takeDue(100).map((t) => t.key)).toEqual(['stock/res/R']);
    expect(reloaded.takeDue(100)).toHaveLength(0); // and only once
  });
});
