// What the engine keeps of an event: a fresh copy of the declared fields of its type, nothing
// else. Unknown fields are refused by name at every depth, a null optional field is absent,
// ids count characters, and an id reused for another event is refused `id_conflict`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, type Engine, type InputEvent, type Processor } from '../engine/mod.ts';

let dir: string;
const open: Engine[] = [];
/** Every event the processors were given, as they got it. */
let seen: InputEvent[] = [];

function recording(p: Processor): Processor {
  return {
    ...p,
    apply(view, ev, ctx) {
      seen.push(ev);
      return p.apply(view, ev, ctx);
    },
  };
}

async function start(): Promise<Engine> {
  const e = await openEngine({ path: join(dir, 'db'), processors: defaultProcessors().map(recording), durability: 'none', autoTimers: false });
  open.push(e);
  return e;
}

const loc = (id: string, location = 'S1') => ({ id, type: 'location.upserted', location, kind: 'store', lat: 1, lon: 1 });
const recv = (id: string, qty = 1, sku = 'A', location = 'S1') => ({ id, type: 'stock.received', sku, location, qty });
const codes = (results: Array<{ ok: boolean; error?: { code: string } }>) => results.map((r) => (r.ok ? 'ok' : r.error!.code));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omni-strict-'));
  seen = [];
});
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fields', () => {
  it('refuses a field its type does not define, naming it, at every depth', async () => {
    const e = await start();
    await e.submit([loc('l'), recv('r', 10)]);
    const results = await e.submit([
      { id: 'typo', type: 'stock.reserve', reservation: 'h1', sku: 'A', qty: 1, locaton: 'S1' },
      { id: 'quantity', type: 'stock.reserve', reservation: 'h2', sku: 'A', quantity: 3 },
      { id: 'ship-extra', type: 'order.placed', order: 'o1', lines: [{ sku: 'A', qty: 1 }], ship: { lat: 1, lon: 1, deep: [[[[1]]]] } },
      { id: 'line-extra', type: 'order.placed', order: 'o2', lines: [{ sku: 'A', qty: 1 }, { sku: 'A', qty: 1, note: 'x' }], pickup: 'S1' },
      { id: 'cap-extra', type: 'agent.online', agent: 'a', skills: { t: 1 }, capacity: { chat: 1, fax: 2 } },
      { id: 'proto', type: 'stock.received', sku: 'A', location: 'S1', qty: 1, constructor: 5 },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : [r.error.code, r.error.field]))).toEqual([
      ['invalid_event', 'locaton'],
      ['invalid_event', 'quantity'],
      ['invalid_event', 'ship.deep'],
      ['invalid_event', 'lines[1].note'],
      ['invalid_event', 'capacity.fax'],
      ['invalid_event', 'constructor'],
    ]);
    expect(results[0].ok === false && results[0].error.message).toContain("'locaton'");
    expect(e.read('stock/res/h1')).toBeUndefined();
  });

  it('accepts meta and x- fields as the sender\'s own data, and keeps none of it', async () => {
    const e = await start();
    const results = await e.submit([
      { ...loc('l'), meta: { source: 'pos-7', nested: { a: [1, 2] } }, 'x-trace': 'abc' },
      { ...recv('r', 3), 'x-anything': { deep: true } },
      { ...recv('bad-meta', 3), meta: 'not an object' },
    ]);
    expect(codes(results)).toEqual(['ok', 'ok', 'invalid_event']);
    expect(results[2].ok === false && results[2].error.field).toBe('meta');
    for (const ev of seen) {
      expect(Object.keys(ev).some((k) => k === 'meta' || k.startsWith('x-'))).toBe(false);
    }
  });

  it('gives processors a fresh event: declared fields only, nested values copied', async () => {
    const e = await start();
    await e.submit([loc('l'), recv('r', 10)]);
    const ship = { lat: 1, lon: 1 };
    const lines = [{ sku: 'A', qty: 1 }];
    const raw = { lines, ship, order: 'o', type: 'order.placed', id: 'o1', customer: null };
    expect(codes(await e.submit([raw]))).toEqual(['ok']);
    const got = seen.find((ev) => ev.id === 'o1')!;
    // Envelope first, then the schema's order, whatever the order on the wire; null left out.
    expect(Object.keys(got)).toEqual(['id', 'type', 'order', 'lines', 'ship']);
    expect(got.ship).toEqual(ship);
    expect(got.ship).not.toBe(ship);
    expect(got.lines).not.toBe(lines);
    expect((got.lines as unknown[])[0]).not.toBe(lines[0]);
    expect(Object.getPrototypeOf(got.ship)).toBe(Object.prototype);
  });

  it('takes a null optional field, ts included, as absent', async () => {
    const e = await start();
    const results = await e.submit([
      { ...loc('l'), name: null, lowStock: null },
      { ...recv('r', 5), ts: null },
      { id: 'h', type: 'stock.reserve', reservation: 'h', sku: 'A', qty: 1, location: null, ttlMs: null, channel: null },
      { id: 'q', type: 'service.requested', request: 'q', subject: 'c', channel: 'chat', topic: 't', language: null, priority: null },
    ]);
    expect(codes(results)).toEqual(['ok', 'ok', 'ok', 'ok']);
    for (const ev of seen) expect(Object.values(ev)).not.toContain(null);
    // A required field sent as null is missing.
    const [missing] = await e.submit([{ ...recv('r2'), qty: null }]);
    expect(missing).toMatchObject({ ok: false, error: { code: 'invalid_event', field: 'qty' } });
  });

  it('counts an id in characters, not UTF-16 units, and refuses C1 control characters', async () => {
    const e = await start();
    await e.submit([loc('l')]);
    const emoji128 = '😀'.repeat(128);
    const results = await e.submit([
      recv(emoji128),
      recv('😀'.repeat(129)),
      recv('a\u0085b'),
      recv('a\u009fb'),
      { ...recv('sku-emoji'), sku: '😀'.repeat(128) },
      { ...recv('sku-c1'), sku: 'A\u0085' },
    ]);
    expect(codes(results)).toEqual(['ok', 'invalid_event', 'invalid_event', 'invalid_event', 'ok', 'invalid_event']);
    expect(results[5].ok === false && results[5].error.field).toBe('sku');
    // Stored and found again under keys made of two such ids.
    expect((await e.submit([recv(emoji128)]))[0]).toMatchObject({ ok: true, duplicate: true });
    const [hold] = await e.submit([{ id: 'h', type: 'stock.reserve', reservation: '😀'.repeat(128), sku: '😀'.repeat(128), location: 'S1', qty: 1 }]);
    expect(hold.ok).toBe(true);
    expect(e.snapshot(`stock/${'😀'.repeat(128)}@S1`)?.data).toMatchObject({ reserved: 1 });
  });
});

describe('what the engine keeps, at the edges', () => {
  it('a field found invalid only against state is not remembered: the corrected event is applied under the same id', async () => {
    const e = await start();
    await e.submit([loc('store', 'S1'), { ...loc('wh'), location: 'W1', kind: 'warehouse' }]);
    const kiosk = { id: 'k1', type: 'kiosk.identified', kiosk: 'kiosk-1', subject: 'c1' };
    const [atWarehouse] = await e.submit([{ ...kiosk, location: 'W1' }]);
    expect(atWarehouse).toMatchObject({ ok: false, error: { code: 'invalid_event' } });
    const [atStore] = await e.submit([{ ...kiosk, location: 'S1' }]);
    expect(atStore.ok).toBe(true);
    expect(atStore.duplicate).toBeUndefined();
  });

  it('a map is counted before it is copied: thousands of keys are refused at once, naming the map', async () => {
    const e = await start();
    // A bad key sorts first: were the keys copied (or checked) before the count, it would be named.
    const skills = { '!bad@key': 1, ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`t${i}`, 1])) };
    const [r] = await e.submit([{ id: 'a', type: 'agent.online', agent: 'a', skills, capacity: { chat: 1 } }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_event', field: 'skills' } });
    expect(r.ok === false && r.error.message).toMatch(/1–50 entries/);
  });

  it('-0 is kept as 0, and meta: null is absent', async () => {
    const e = await start();
    const [r] = await e.submit([{ id: 'adj', type: 'stock.adjusted', sku: 'A', location: 'S1', onHand: -0, meta: null, ts: -0 }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'unknown_location' } });
    await e.submit([loc('l')]);
    const [ok] = await e.submit([{ id: 'adj2', type: 'stock.adjusted', sku: 'A', location: 'S1', onHand: -0, meta: null, ts: -0 }]);
    expect(ok.ok).toBe(true);
    const got = seen.find((ev) => ev.id === 'adj2')!;
    expect(Object.is(got.onHand, 0)).toBe(true);
    expect(Object.is(got.ts, 0)).toBe(true);
  });

  it('a processor without a schema for a type it owns is refused before the data dir is taken', async () => {
    const broken: Processor = { ...defaultProcessors()[0], types: ['stock.received', 'no.schema'] };
    await expect(openEngine({ path: join(dir, 'db'), processors: [broken], durability: 'none' })).rejects.toThrow(/declares no schema for 'no.schema'/);
    // Nothing held: the dir opens at once.
    const e = await start();
    expect((await e.submit([loc('l')]))[0].ok).toBe(true);
  });
});

describe('a reused id', () => {
  it('with other content is refused id_conflict and applies nothing; the same content is a duplicate', async () => {
    let e = await start();
    await e.submit([loc('l'), recv('1', 5)]);
    const conflict = await e.submit([{ id: '1', type: 'stock.received', sku: 'OTHER', location: 'S1', qty: 5 }]);
    expect(conflict[0]).toMatchObject({ id: '1', ok: false, error: { code: 'id_conflict' } });
    expect(conflict[0].duplicate).toBeUndefined();
    expect(e.snapshot('stock/OTHER')).toBeUndefined();
    // The first event sent again, keys in another order: the first answer.
    expect((await e.submit([{ qty: 5, location: 'S1', sku: 'A', type: 'stock.received', id: '1' }]))[0]).toEqual({ id: '1', ok: true, duplicate: true });
    // meta and x- fields are not part of what is compared.
    expect((await e.submit([{ ...recv('1', 5), meta: { retry: 2 } }]))[0]).toEqual({ id: '1', ok: true, duplicate: true });
    // Across a restart too.
    await e.close();
    open.splice(0);
    e = await start();
    expect((await e.submit([recv('1', 6)]))[0]).toMatchObject({ ok: false, error: { code: 'id_conflict' } });
    expect((await e.submit([recv('1', 5)]))[0]).toEqual({ id: '1', ok: true, duplicate: true });
    expect(e.snapshot('stock/A')?.data).toMatchObject({ onHand: 5 });
  });

  it('within one submission and across submissions in flight: conflicts refused, retries answered once applied', async () => {
    const e = await start();
    await e.submit([loc('l')]);
    const [a, b] = await Promise.all([e.submit([recv('x', 2), recv('x', 3), recv('x', 2)]), e.submit([recv('x', 4), recv('x', 2)])]);
    expect(codes(a)).toEqual(['ok', 'id_conflict', 'ok']);
    expect(a[2].duplicate).toBe(true);
    expect(codes(b)).toEqual(['id_conflict', 'ok']);
    expect(b[1].duplicate).toBe(true);
    expect(e.snapshot('stock/A')?.data).toMatchObject({ onHand: 2 });
  });

  it('keeps the first answer of a rejected event for its retries, and refuses other content', async () => {
    const e = await start();
    await e.submit([loc('l'), recv('r', 1)]);
    const hold = { id: 'h', type: 'stock.reserve', reservation: 'R', sku: 'A', location: 'S1', qty: 5 };
    const [first] = await e.submit([hold]);
    expect(first).toMatchObject({ ok: false, error: { code: 'insufficient_stock', wanted: 5, available: 1 } });
    expect((await e.submit([hold]))[0]).toEqual({ ...first, duplicate: true });
    expect((await e.submit([{ ...hold, qty: 1 }]))[0]).toMatchObject({ ok: false, error: { code: 'id_conflict' } });
  });
});

describe('insufficient_stock', () => {
  it('without a location names what one location could give, and says how much there is in all', async () => {
    const e = await start();
    await e.submit([loc('l1', 'S1'), loc('l2', 'S2'), loc('l3', 'S3'), recv('r1', 4, 'A', 'S1'), recv('r2', 5, 'A', 'S2'), recv('r3', 3, 'A', 'S3')]);
    const [r] = await e.submit([{ id: 'h', type: 'stock.reserve', reservation: 'R', sku: 'A', qty: 6 }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'insufficient_stock', wanted: 6, available: 5 } });
    expect(r.ok === false && r.error.message).toMatch(/12 in all/);
    const [none] = await e.submit([{ id: 'h2', type: 'stock.reserve', reservation: 'R2', sku: 'NEVER', qty: 1 }]);
    expect(none).toMatchObject({ ok: false, error: { code: 'insufficient_stock', wanted: 1, available: 0 } });
  });
});
