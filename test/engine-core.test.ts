import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EngineClosedError, openEngine, type Engine, type EngineOptions, type Output, type Processor } from '../engine/mod.ts';
import { stockProcessor } from '../engine/stock/mod.ts';

let dir: string;
let clock: { t: number; now(): number };
const open: Engine[] = [];

async function start(extra: Partial<EngineOptions> = {}, path = join(dir, 'db')): Promise<Engine> {
  const e = await openEngine({ path, processors: [stockProcessor()], clock, autoTimers: false, ...extra });
  open.push(e);
  return e;
}

const loc = (id: string, location = 'S1') => ({ id, type: 'location.upserted', location, kind: 'store', lat: 1, lon: 1 });
const recv = (id: string, qty = 1, sku = 'A', location = 'S1') => ({ id, type: 'stock.received', sku, location, qty });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omni-core-'));
  clock = { t: 1_700_000_000_000, now() { return this.t; } };
});
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('submit', () => {
  it('answers every event in order, invalid ones in place, and applies only the valid', async () => {
    const e = await start();
    const results = await e.submit([
      loc('l'),
      'not an object',
      { type: 'stock.received' },
      { id: 'x'.repeat(129), type: 'stock.received' },
      { id: 't', type: 'stock.received', sku: 'A', location: 'S1', qty: 1, ts: -5 },
      { id: 'u', type: 'no.such' },
      recv('r1', 3),
      { id: 'bad', type: 'stock.received', sku: 'A', location: 'S1', qty: 1.5 },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
      'ok', 'invalid_event', 'invalid_event', 'invalid_event', 'invalid_event', 'unknown_type', 'ok', 'invalid_event',
    ]);
    expect(results.map((r) => r.id)).toEqual(['l', null, null, null, 't', 'u', 'r1', 'bad']);
    expect(e.snapshot('stock/A')?.data).toMatchObject({ onHand: 3 });
  });

  it('applies a repeated id once and answers it with the first answer', async () => {
    const e = await start();
    await e.submit([loc('l')]);
    // the same id twice in one submission, and concurrently from two submissions
    const [a, b] = await Promise.all([e.submit([recv('r1', 5), recv('r1', 5)]), e.submit([recv('r1', 5)])]);
    expect(a[0]).toEqual({ id: 'r1', ok: true });
    expect(a[1]).toEqual({ id: 'r1', ok: true, duplicate: true });
    expect(b[0]).toEqual({ id: 'r1', ok: true, duplicate: true });
    // later, and after a restart, with the first answer's extra fields and errors
    const [res] = await e.submit([{ id: 'x', type: 'stock.reserve', reservation: 'R', sku: 'A', qty: 2 }]);
    const [rej] = await e.submit([{ id: 'y', type: 'stock.reserve', reservation: 'R2', sku: 'A', qty: 99 }]);
    await e.close();
    const e2 = await start();
    // the same event in another key order is the same event
    const again = await e2.submit([recv('r1', 5), { qty: 2, sku: 'A', reservation: 'R', type: 'stock.reserve', id: 'x' }, { id: 'y', type: 'x' }]);
    expect(again[0]).toEqual({ id: 'r1', ok: true, duplicate: true });
    expect(again[1]).toEqual({ ...res, duplicate: true });
    expect(again[2]).toEqual({ id: 'y', ok: false, error: { code: 'unknown_type', message: expect.any(String) } });
    const [dupRej] = await e2.submit([{ id: 'y', type: 'stock.reserve', reservation: 'R2', sku: 'A', qty: 99 }]);
    expect(dupRej).toEqual({ ...rej, duplicate: true });
    expect(e2.snapshot('stock/A')?.data).toMatchObject({ onHand: 5, reserved: 2 });
  });

  it('recognises an id for at least the retention period, then forgets it', async () => {
    const e = await start({ dedupRetentionMs: 1000 });
    await e.submit([loc('l'), recv('r1')]);
    clock.t += 999;
    expect((await e.submit([recv('r1')]))[0].duplicate).toBe(true);
    clock.t += 1; // first rotation: r1 moves to the previous generation, still recognised
    await e.submit([recv('tick1')]);
    expect((await e.submit([recv('r1')]))[0].duplicate).toBe(true);
    clock.t += 1000; // second rotation clears the generation that held r1
    await e.submit([recv('tick2')]);
    expect((await e.submit([recv('r1')]))[0].duplicate).toBeUndefined();
    expect(e.snapshot('stock/A')?.data).toMatchObject({ onHand: 4 });
  });

  it('forgets every id after a downtime of twice the retention', async () => {
    const e = await start({ dedupRetentionMs: 1000 });
    await e.submit([loc('l'), recv('r1')]);
    await e.close();
    clock.t += 10_000;
    const e2 = await start({ dedupRetentionMs: 1000 });
    expect((await e2.submit([recv('r1')]))[0].duplicate).toBeUndefined();
    expect((await e2.submit([recv('r1')]))[0].duplicate).toBe(true);
    expect(e2.snapshot('stock/A')?.data).toMatchObject({ onHand: 2 });
  });

  it('keeps a processor bug to one event', async () => {
    const exploding: Processor = {
      ...stockProcessor(),
      name: 'boom',
      types: ['boom'],
      internalTypes: [],
      topicPrefixes: [],
      schemas: { boom: {} },
      validate: () => null,
      partitionKey: () => 'k',
      apply: () => {
        throw new Error('bug');
      },
    };
    const e = await start({ processors: [stockProcessor(), exploding] });
    const results = await e.submit([loc('l'), { id: 'b', type: 'boom' }, recv('r')]);
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(results[2].ok).toBe(true);
    // nothing was applied, so the id is not remembered: it may be sent again
    const [again] = await e.submit([{ id: 'b', type: 'boom' }]);
    expect(again.duplicate).toBeUndefined();
  });

  it('refuses events once closing, after committing what was queued', async () => {
    const e = await start({ durability: 'fsync' });
    const queued = e.submit([loc('l'), recv('r1', 7)]);
    const closed = e.close();
    await expect(e.submit([recv('r2')])).rejects.toBeInstanceOf(EngineClosedError);
    expect((await queued).every((r) => r.ok)).toBe(true);
    await closed;
    const e2 = await start();
    expect(e2.snapshot('stock/A')?.data).toMatchObject({ onHand: 7 });
  });
});

describe('outputs', () => {
  it('are released after the commit, with seq rising by one per update of each topic', async () => {
    const e = await start();
    const seen: Output[] = [];
    e.onOutput((outs) => {
      for (const o of outs) {
        // released only once durable: the durable snapshot already shows this seq
        if (o.topic.startsWith('stock/')) expect(e.snapshot(o.topic)!.seq).toBeGreaterThanOrEqual(o.seq);
        seen.push(o);
      }
    });
    await e.submit([loc('l')]);
    await e.submit([recv('a', 1)]);
    await e.submit([recv('b', 1)]);
    await e.submit([recv('c', 1, 'A', 'S1'), recv('d', 1)]); // one batch: one conflated update
    const a = seen.filter((o) => o.topic === 'stock/A');
    expect(a.map((o) => o.seq)).toEqual([1, 2, 3]);
    expect(a.at(-1)!.data).toMatchObject({ onHand: 4 });
    expect(seen.filter((o) => o.topic === 'stock/A@S1').map((o) => o.seq)).toEqual([1, 2, 3]);
    // An alert is published by its own partition, a commit after the change that raised it.
    await e.idle();
    expect(seen.find((o) => o.topic === 'alerts/stock')?.data).toMatchObject({ type: 'low_stock' });
  });

  it('carry the oldest event time folded into them', async () => {
    const e = await start();
    const seen: Output[] = [];
    e.onOutput((o) => seen.push(...o));
    await e.submit([loc('l'), { ...recv('a'), ts: 500 }, { ...recv('b'), ts: 300 }]);
    expect(seen.find((o) => o.topic === 'stock/A')!.ts).toBe(300);
  });

  it('render a topic watched only after its batch was applied, at release, with no seq gap', async () => {
    const e = await start();
    const watched = new Set<string>();
    const seen: Output[] = [];
    e.onOutput((o) => seen.push(...o));
    e.setInterest((t) => watched.has(t));
    await e.submit([loc('l'), recv('a', 1)]);
    const pending = e.submit([recv('b', 2)]);
    await new Promise((resolve) => setImmediate(resolve)); // the batch is applied, not yet released
    watched.add('stock/A');
    await pending;
    expect(seen.filter((o) => o.topic === 'stock/A')).toEqual([
      { topic: 'stock/A', seq: 2, data: expect.objectContaining({ onHand: 3 }), ts: expect.any(Number) },
    ]);
  });

  it('render only watched topics, but every seq still moves and survives a restart', async () => {
    const e = await start();
    const seen: Output[] = [];
    e.onOutput((o) => seen.push(...o));
    e.setInterest((t) => t === 'stock/B');
    await e.submit([loc('l'), recv('a', 1, 'A'), recv('b', 1, 'B')]);
    await e.submit([recv('a2', 1, 'A')]);
    expect(seen.map((o) => o.topic).filter((t) => t.startsWith('stock/'))).toEqual(['stock/B']);
    expect(e.lastSeq('stock/A')).toBe(2);
    await e.close();
    const e2 = await start();
    const after: Output[] = [];
    e2.onOutput((o) => after.push(...o));
    await e2.submit([recv('a3', 1, 'A')]);
    expect(after.find((o) => o.topic === 'stock/A')?.seq).toBe(3);
    expect(e2.snapshot('stock/A')).toMatchObject({ seq: 3, epoch: e.epoch });
  });
});

describe('timers and checkpoints', () => {
  it('expire reservations on the clock, including those due while the engine was down', async () => {
    const e = await start();
    await e.submit([loc('l'), recv('r', 10)]);
    await e.submit([
      { id: 'x1', type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 2, ttlMs: 1000 },
      { id: 'x2', type: 'stock.reserve', reservation: 'R2', sku: 'A', qty: 3, ttlMs: 5000 },
    ]);
    expect(await e.runDueTimers()).toBe(0);
    clock.t += 1000;
    expect(await e.runDueTimers()).toBe(1);
    expect(e.snapshot('stock/A')?.data).toMatchObject({ reserved: 3 });
    await e.close();
    clock.t += 10_000; // R2 comes due while nothing runs
    const e2 = await start();
    // opening queued it already: nothing is left for runDueTimers, and it applies by itself
    expect(await e2.runDueTimers()).toBe(0);
    expect(e2.snapshot('stock/A')?.data).toMatchObject({ reserved: 0, available: 10 });
    expect(e2.stats().pendingTimers).toBe(0);
  });

  it('a released reservation does not expire later', async () => {
    const e = await start();
    await e.submit([loc('l'), recv('r', 10), { id: 'x', type: 'stock.reserve', reservation: 'R', sku: 'A', qty: 2, ttlMs: 10 }]);
    await e.submit([{ id: 'y', type: 'stock.release', reservation: 'R' }]);
    clock.t += 100;
    expect(await e.runDueTimers()).toBe(0);
  });

  it('fires armed timers by itself on the real clock', async () => {
    const e = await openEngine({ path: join(dir, 'auto'), processors: [stockProcessor()] });
    open.push(e);
    // Held, then released by the expiry timer.
    let held = false;
    const released = new Promise<void>((resolve) =>
      e.onOutput((outs) => {
        for (const o of outs) {
          if (o.topic !== 'stock/A') continue;
          const reserved = (o.data as { reserved: number }).reserved;
          if (reserved === 2) held = true;
          else if (held && reserved === 0) resolve();
        }
      }),
    );
    await e.submit([loc('l'), recv('r', 10), { id: 'x', type: 'stock.reserve', reservation: 'R', sku: 'A', qty: 2, ttlMs: 20 }]);
    await released;
    expect(e.snapshot('stock/A')?.data).toMatchObject({ reserved: 0 });
  });

  it('count applied events per partition and keep the count across restarts', async () => {
    const e = await start({ partitions: 4 });
    // lowStock 0: no alert, whose derived event would be counted at its own partition a commit later.
    await e.submit([{ ...loc('l'), lowStock: 0 }, ...Array.from({ length: 20 }, (_, i) => recv(`r${i}`, 1, `SKU${i}`))]);
    const total = [0, 1, 2, 3].reduce((s, p) => s + e.checkpoint(p), 0);
    expect(total).toBe(21);
    await e.close();
    const e2 = await start({ partitions: 4 });
    expect([0, 1, 2, 3].reduce((s, p) => s + e2.checkpoint(p), 0)).toBe(21);
  });

  it('opens an existing directory whose name has a dot in it (as mktemp -d makes)', async () => {
    const dotted = mkdtempSync(join(dir, 'data.'));
    const e = await start({}, dotted);
    expect((await e.submit([loc('l'), recv('r')])).every((r) => r.ok)).toBe(true);
  });

  it('has a stable epoch per data dir', async () => {
    const a = await start();
    const epoch = a.epoch;
    await a.close();
    expect((await start()).epoch).toBe(epoch);
    expect((await start({}, join(dir, 'other'))).epoch).not.toBe(epoch);
  });
});

describe('followers', () => {
  /** Counts the stock events it follows into `seen/<sku>` and pushes each on `seen/all`; throws on one SKU. */
  const follower = (): Processor => ({
    name: 'watcher',
    types: [],
    topicPrefixes: [],
    follows: ['stock.received'],
    schemas: {},
    validate: () => null,
    partitionKey: () => 'w',
    apply: () => ({ result: { ok: true } }),
    onTimer: () => ({}),
    render: () => undefined,
    onFollowed(view, ev, outcome) {
      if (ev.sku === 'BOOM') throw new Error('follower bug');
      const key = `seen/${ev.sku as string}`;
      return {
        writes: [[key, (view.get<number>(key) ?? 0) + 1]],
        messages: [{ topic: 'alerts/seen', data: { sku: ev.sku, owner: outcome.changed.includes(`stock/${ev.sku as string}`) } }],
      };
    },
  });

  it('react a commit later after an accepted event only, seeing its writes; a follower bug leaves the answer standing', async () => {
    const e = await start({ processors: [stockProcessor(), follower()] });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const outputs: Output[] = [];
    e.onOutput((o) => outputs.push(...o));
    const results = await e.submit([
      loc('l'),
      recv('r1', 2),
      { id: 'bad', type: 'stock.received', sku: 'A', location: 'NOWHERE', qty: 1 },
      recv('r2', 1),
      recv('r3', 1, 'BOOM'),
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'unknown_location', 'ok', 'ok']);
    // The reactions are applied on the follower's partition, by the batch after the receipts'.
    await e.idle();
    // Two accepted receipts of A, none for the refused one; BOOM's receipt applied without its reaction.
    expect(e.read('seen/A')).toBe(2);
    expect(e.read('seen/BOOM')).toBeUndefined();
    expect(e.snapshot('stock/BOOM')?.data).toMatchObject({ onHand: 1 });
    const seen = outputs.filter((o) => o.topic === 'alerts/seen');
    expect(seen.map((o) => o.data)).toEqual([{ sku: 'A', owner: true }, { sku: 'A', owner: true }]);
    expect(seen.map((o) => o.seq)).toEqual([1, 2]);
    expect(logged.mock.calls.map((c) => String(c[0]))).toEqual(["watcher failed following stock.received 'r3':"]);
    logged.mockRestore();
  });
});
