// Hostile input over HTTP, part two: every field rule of every stock event, quantities and
// their bounds, ids, undeclared locations and malformed orders. Each refusal has the right code
// and changes nothing.

import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { EventResult } from '../engine/mod.ts';
import { getJson } from './gateway-harness.ts';
import { loc, received, useHostileServer } from './hostile-harness.ts';

const h = useHostileServer();
const { post, postMsgpack, stockOf, changesNothing, expectEachRefused } = h;

describe('fields', () => {
  it('ids: empty, 129 characters, control characters, non-strings are invalid_event; 128 characters is fine', async () => {
    await changesNothing(['BASE'], async () => {
      const ids: unknown[] = ['', 'x'.repeat(129), 'a\u0000b', 'a\nb', 'a\tb', 'a\rb', '\u001f', 'a\u007f', 5, 0, { x: 1 }, ['a'], true];
      for (const id of ids) {
        const { body } = await post([{ ...received('?', 'BASE', 'S1', 1), id }]);
        expect(body.results, JSON.stringify(id)).toEqual([{ id: null, ok: false, error: { code: 'invalid_event', message: expect.any(String), field: 'id' } }]);
      }
      // The same rules hold for every id a stock event names.
      await expectEachRefused(
        [
          received('sku-empty', '', 'S1', 1),
          received('sku-long', 'x'.repeat(129), 'S1', 1),
          received('sku-at', 'BASE@S1', 'S1', 1),
          received('sku-ctl', 'BA\u0000SE', 'S1', 1),
          received('loc-long', 'BASE', 'S'.repeat(129), 1),
          received('loc-at', 'BASE', 'S1@x', 1),
          { id: 'res-long', type: 'stock.reserve', reservation: 'r'.repeat(129), sku: 'BASE', qty: 1 },
          { id: 'res-ctl', type: 'stock.release', reservation: 'r\u0007' },
          { id: 'res-obj', type: 'stock.commit', reservation: { id: 'r' } },
          { id: 'ord-long', type: 'order.fulfilled', order: 'o'.repeat(129) },
          { id: 'tr-empty', type: 'stock.transfer', transfer: '', sku: 'BASE', from: 'S1', to: 'S2', qty: 1 },
        ],
        'invalid_event',
      );
    });
    const longId = 'i'.repeat(128);
    const longSku = 'k'.repeat(128);
    expect((await post([received(longId, longSku, 'S1', 3)])).body.results).toEqual([{ id: longId, ok: true }]);
    expect(await stockOf(longSku)).toMatchObject({ status: 200, body: { sku: longSku, onHand: 3 } });
  });

  it('wrong field types are invalid_event', async () => {
    await changesNothing(['BASE'], async () => {
      await expectEachRefused(
        [
          received('t-1', 'BASE', 'S1', '5'),
          received('t-2', 'BASE', 'S1', true),
          received('t-3', 'BASE', 'S1', [5]),
          received('t-4', 'BASE', 'S1', { value: 5 }),
          received('t-5', ['BASE'] as unknown as string, 'S1', 1),
          received('t-6', 5 as unknown as string, 'S1', 1),
          received('t-7', { sku: 'BASE' } as unknown as string, 'S1', 1),
          received('t-8', 'BASE', ['S1'] as unknown as string, 1),
          { ...received('t-9', 'BASE', 'S1', 1), ts: 'now' },
          { ...received('t-10', 'BASE', 'S1', 1), ts: -1 },
          { ...received('t-11', 'BASE', 'S1', 1), ts: 1e17 },
          { id: 't-12', type: 'stock.adjusted', sku: 'BASE', location: 'S1', onHand: '3' },
          { id: 't-13', type: 'stock.safety', sku: 'BASE', location: 'S1', safety: [1] },
          { id: 't-14', type: 'stock.sold', sku: 'BASE', location: 'S1', qty: 1, channel: 5 },
          { id: 't-15', type: 'stock.sold', sku: 'BASE', location: 'S1', qty: 1, channel: 'c'.repeat(65) },
          { id: 't-16', type: 'stock.reserve', reservation: 'tr', sku: 'BASE', qty: 1, ttlMs: '1000' },
          { id: 't-17', type: 'stock.reserve', reservation: 'tr', sku: 'BASE', qty: 1, ttlMs: 0 },
          { id: 't-18', type: 'stock.reserve', reservation: 'tr', sku: 'BASE', qty: 1, ttlMs: -5 },
          { id: 't-19', type: 'stock.reserve', reservation: 'tr', sku: 'BASE', qty: 1, ttlMs: 31 * 24 * 3600 * 1000 },
          { id: 't-20', type: 'stock.reserve', reservation: 'tr', sku: 'BASE', qty: 1, location: 5 },
          { id: 't-21', type: 'stock.transfer', transfer: 'tt', sku: 'BASE', from: 'S1', to: { id: 'S2' }, qty: 1 },
          { id: 't-22', type: 'order.placed', order: 'to', pickup: 'S1', lines: 'BASE' },
          { id: 't-23', type: 'order.placed', order: 'to', pickup: 'S1', lines: [{ sku: 'BASE', qty: '1' }] },
          { id: 't-24', type: 'order.placed', order: 'to', pickup: 'S1', lines: [null] },
          { id: 't-25', type: 'order.placed', order: 'to', pickup: 'S1', lines: [['BASE', 1]] },
          { id: 't-26', type: 'order.placed', order: 'to', pickup: 'S1', lines: [{ sku: ['BASE'], qty: 1 }] },
          { id: 't-27', type: 'order.placed', order: 'to', ship: 'here', lines: [{ sku: 'BASE', qty: 1 }] },
          { id: 't-28', type: 'order.placed', order: 'to', ship: { lat: '31', lon: 121 }, lines: [{ sku: 'BASE', qty: 1 }] },
          { id: 't-29', type: 'order.placed', order: 'to', ship: { lat: 91, lon: 121 }, lines: [{ sku: 'BASE', qty: 1 }] },
          { id: 't-30', type: 'order.placed', order: 'to', ship: { lat: 31 }, lines: [{ sku: 'BASE', qty: 1 }] },
          { id: 't-31', type: 'order.placed', order: 'to', pickup: 5, lines: [{ sku: 'BASE', qty: 1 }] },
          { id: 't-32', type: 'order.placed', order: 'to', customer: 7, pickup: 'S1', lines: [{ sku: 'BASE', qty: 1 }] },
          { id: 't-33', type: 'location.upserted', location: 'S1', kind: 'shop', lat: 0, lon: 0 },
          { id: 't-34', type: 'location.upserted', location: 'S1', kind: 'store', lat: '0', lon: 0 },
          { id: 't-35', type: 'location.upserted', location: 'S1', kind: 'store', lat: 90.5, lon: 0 },
          { id: 't-36', type: 'location.upserted', location: 'S1', kind: 'store', lat: 0, lon: -180.5 },
          { id: 't-37', type: 'location.upserted', location: 'S1', kind: 'store', lat: 0, lon: 0, name: 5 },
          { id: 't-38', type: 'location.upserted', location: 'S1', kind: 'store', lat: 0, lon: 0, name: 'n'.repeat(201) },
          { id: 't-39', type: 'location.upserted', location: 'S1', kind: 'store', lat: 0, lon: 0, lowStock: -1 },
        ],
        'invalid_event',
      );
    });
  });

  it('lat/lon of NaN or Infinity (only msgpack can carry them): the body is refused whole, bad_request', async () => {
    await changesNothing(['BASE'], async () => {
      const events = [
        { id: 'nan-1', type: 'location.upserted', location: 'S1', kind: 'store', lat: Number.NaN, lon: 0 },
        { id: 'nan-2', type: 'location.upserted', location: 'S1', kind: 'store', lat: 0, lon: Number.POSITIVE_INFINITY },
        { id: 'nan-3', type: 'order.placed', order: 'nan-o', ship: { lat: Number.NaN, lon: 0 }, lines: [{ sku: 'BASE', qty: 1 }] },
      ];
      for (const event of events) {
        const { status, body } = await postMsgpack([received('fine', 'BASE', 'S1', 1), event]);
        expect(status).toBe(400);
        expect(body.error.code).toBe('bad_request');
      }
    });
  });

  it('a missing required field is invalid_event, for every field of every stock event', async () => {
    const complete: Array<[Record<string, unknown>, string[]]> = [
      [{ id: 'm-loc', type: 'location.upserted', location: 'MISS', kind: 'store', lat: 1, lon: 2 }, ['id', 'type', 'location', 'kind', 'lat', 'lon']],
      [received('m-recv', 'MISS', 'S1', 5), ['id', 'type', 'sku', 'location', 'qty']],
      [{ id: 'm-ret', type: 'stock.returned', sku: 'MISS', location: 'S1', qty: 1 }, ['sku', 'location', 'qty']],
      [{ id: 'm-adj', type: 'stock.adjusted', sku: 'MISS', location: 'S2', onHand: 3 }, ['sku', 'location', 'onHand']],
      [{ id: 'm-saf', type: 'stock.safety', sku: 'MISS', location: 'S1', safety: 1 }, ['sku', 'location', 'safety']],
      [{ id: 'm-sold', type: 'stock.sold', sku: 'MISS', location: 'S1', qty: 1 }, ['sku', 'location', 'qty']],
      [{ id: 'm-res', type: 'stock.reserve', reservation: 'm-hold', sku: 'MISS', qty: 1 }, ['reservation', 'sku', 'qty']],
      [{ id: 'm-tr', type: 'stock.transfer', transfer: 'm-t', sku: 'MISS', from: 'S1', to: 'S2', qty: 1 }, ['transfer', 'sku', 'from', 'to', 'qty']],
      [{ id: 'm-ord', type: 'order.placed', order: 'm-order', pickup: 'S1', lines: [{ sku: 'MISS', qty: 1 }] }, ['order', 'pickup', 'lines']],
      [{ id: 'm-rel', type: 'stock.release', reservation: 'm-hold' }, ['reservation']],
      [{ id: 'm-ful', type: 'order.fulfilled', order: 'm-order' }, ['order']],
    ];
    await changesNothing(['BASE'], async () => {
      for (const [event, fields] of complete) {
        for (const field of fields) {
          const { [field]: _dropped, ...rest } = event;
          const { status, body } = await post([rest]);
          expect(status).toBe(200);
          expect(body.results[0], `${event.type} without ${field}`).toMatchObject({ ok: false, error: { code: 'invalid_event' } });
        }
        // Null counts as missing too.
        const { body } = await post([{ ...event, [fields.at(-1)!]: null }]);
        expect(body.results[0], `${event.type} with ${fields.at(-1)} null`).toMatchObject({ ok: false, error: { code: 'invalid_event' } });
      }
    });
    expect((await stockOf('MISS')).status).toBe(404);
    // The complete events are valid: none of them is refused for its shape.
    const { body } = await post(complete.map(([event]) => event));
    for (const r of body.results) expect(r.ok || r.error.code !== 'invalid_event', JSON.stringify(r)).toBe(true);
    expect((await stockOf('MISS')).status).toBe(200);
  });

  it('quantities that are negative, zero, fractional, NaN-like, infinite or beyond 2^53 are invalid_event', async () => {
    const bad: unknown[] = [-1, 0, -0.5, 0.5, 1.0000001, 'NaN', 'Infinity', '1', 2 ** 53, 2 ** 60, Number.MAX_SAFE_INTEGER + 2, -(2 ** 60)];
    const withQty = (qty: unknown, i: number, type: string) => {
      switch (type) {
        case 'stock.received':
        case 'stock.returned':
        case 'stock.sold':
          return { id: `q-${type}-${i}`, type, sku: 'QTY', location: 'S1', qty };
        case 'stock.reserve':
          return { id: `q-${type}-${i}`, type, reservation: `q-hold-${i}`, sku: 'BASE', location: 'S1', qty };
        case 'stock.transfer':
          return { id: `q-${type}-${i}`, type, transfer: `q-t-${i}`, sku: 'BASE', from: 'S1', to: 'S2', qty };
        default:
          return { id: `q-${type}-${i}`, type, order: `q-order-${i}`, pickup: 'S1', lines: [{ sku: 'BASE', qty }] };
      }
    };
    await changesNothing(['BASE'], async () => {
      for (const type of ['stock.received', 'stock.returned', 'stock.sold', 'stock.reserve', 'stock.transfer', 'order.placed']) {
        await expectEachRefused(bad.map((qty, i) => withQty(qty, i, type)), 'invalid_event');
      }
      // Values of fields that may be zero still may not be negative, fractional or unsafe.
      for (const value of [-1, 0.5, 2 ** 60, 'NaN']) {
        await expectEachRefused(
          [
            { id: `q-adj-${value}`, type: 'stock.adjusted', sku: 'QTY', location: 'S1', onHand: value },
            { id: `q-saf-${value}`, type: 'stock.safety', sku: 'QTY', location: 'S1', safety: value },
          ],
          'invalid_event',
        );
      }
      // JSON has no NaN or Infinity, but 1e400 parses to Infinity.
      for (const literal of ['1e400', '-1e400', '1e-400']) {
        const { body } = await post(`[{"id":"q-lit","type":"stock.received","sku":"QTY","location":"S1","qty":${literal}}]`);
        expect(body.results[0], literal).toMatchObject({ ok: false, error: { code: 'invalid_event' } });
      }
      // msgpack can carry NaN, ±Infinity and integers past 2^53: such a body is refused whole.
      for (const [i, qty] of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].entries()) {
        const mp = await postMsgpack([received(`q-mp-${i}`, 'QTY', 'S1', qty)]);
        expect(mp.status, String(qty)).toBe(400);
        expect(mp.body.error.code).toBe('bad_request');
      }
      const huge = Buffer.concat([
        Buffer.from([0x85]),
        pack('id'), pack('q-u64-huge'), pack('type'), pack('stock.received'), pack('sku'), pack('QTY'), pack('location'), pack('S1'),
        pack('qty'), Buffer.from([0xcf, 0, 0x20, 0, 0, 0, 0, 0, 1]),
      ]);
      expect((await postMsgpack(huge)).status).toBe(400);
      for (const qty of [-0, 2 ** 60]) {
        const mp = await postMsgpack([received('q-mp-float', 'QTY', 'S1', qty)]);
        expect(mp.body.results[0]).toMatchObject({ ok: false, error: { code: 'invalid_event', field: 'qty' } });
      }
      const uint64 = Buffer.concat([
        Buffer.from([0x85]),
        pack('id'), pack('q-u64'), pack('type'), pack('stock.received'), pack('sku'), pack('QTY'), pack('location'), pack('S1'),
        pack('qty'), Buffer.from([0xcf, 0, 0, 0, 0, 0, 0, 0, 5]),
      ]);
      // A 64-bit 5 is the number 5 (only values past 2^53 are refused).
      const u64 = await postMsgpack(uint64);
      expect(u64.status).toBe(200);
      expect(u64.body.results[0]).toEqual({ id: 'q-u64', ok: true });
      expect((await stockOf('QTY')).body.onHand).toBe(5);
    });
  });

  // Every single quantity is a safe integer, but nothing stops their sum from leaving the
  // safe-integer range, where arithmetic silently rounds: MAX_SAFE + MAX_SAFE + 1 reads back as
  // 18014398509481984. An event that would take a quantity past 2^53 − 1 must be refused.
  // Quantities are at most 10^9 per event and a row at most 10^12 units, so no sum the engine
  // makes (a SKU's totals over up to 9,000 locations) can pass 2^53 and be rounded.
  it('a quantity over 10^9, or a row that would pass 10^12 units, is refused, not rounded', async () => {
    const { body: over } = await post([received('big-0', 'BIG', 'S1', 1e9 + 1)]);
    expect(over.results[0]).toMatchObject({ ok: false, error: { code: 'invalid_event' } });
    const fill = Array.from({ length: 1000 }, (_, i) => received(`big-fill-${i}`, 'BIG', 'S1', 1e9));
    const filled = await post(fill);
    expect(filled.body.results.every((r: EventResult) => r.ok)).toBe(true);
    const before = await stockOf('BIG');
    expect(before.body.onHand).toBe(1e12);
    const { body } = await post([received('big-2', 'BIG', 'S1', 1)]);
    expect(body.results[0]).toMatchObject({ ok: false, error: { code: 'invalid_event' } });
    expect(await stockOf('BIG')).toEqual(before);
  });

  it('undeclared locations are unknown_location for every event that names one, and move nothing', async () => {
    await changesNothing(['BASE'], async () => {
      await expectEachRefused(
        [
          { id: 'ul-1', type: 'stock.returned', sku: 'BASE', location: 'NOWHERE', qty: 1 },
          { id: 'ul-2', type: 'stock.adjusted', sku: 'BASE', location: 'NOWHERE', onHand: 1 },
          { id: 'ul-3', type: 'stock.safety', sku: 'BASE', location: 'NOWHERE', safety: 1 },
          { id: 'ul-4', type: 'stock.sold', sku: 'BASE', location: 'NOWHERE', qty: 1 },
          { id: 'ul-5', type: 'stock.reserve', reservation: 'ul-hold', sku: 'BASE', location: 'NOWHERE', qty: 1 },
          { id: 'ul-6', type: 'stock.transfer', transfer: 'ul-t1', sku: 'BASE', from: 'NOWHERE', to: 'S1', qty: 1 },
          // From a store that has the stock to nowhere: no half transfer.
          { id: 'ul-7', type: 'stock.transfer', transfer: 'ul-t2', sku: 'BASE', from: 'S1', to: 'NOWHERE', qty: 1 },
          { id: 'ul-8', type: 'order.placed', order: 'ul-order', pickup: 'NOWHERE', lines: [{ sku: 'BASE', qty: 1 }] },
          // Lower case is another id.
          { id: 'ul-9', type: 'stock.received', sku: 'BASE', location: 's1', qty: 1 },
        ],
        'unknown_location',
      );
    });
  });

  it('orders: ship and pickup both or neither, no lines, too many lines, a zero line, a warehouse pickup, a transfer to itself', async () => {
    const line = [{ sku: 'BASE', qty: 1 }];
    await changesNothing(['BASE'], async () => {
      await expectEachRefused(
        [
          { id: 'o-1', type: 'order.placed', order: 'o-1', pickup: 'S1', ship: { lat: 31, lon: 121 }, lines: line },
          { id: 'o-2', type: 'order.placed', order: 'o-2', lines: line },
          { id: 'o-3', type: 'order.placed', order: 'o-3', pickup: 'S1', lines: [] },
          { id: 'o-4', type: 'order.placed', order: 'o-4', pickup: 'S1', lines: Array.from({ length: 201 }, () => ({ sku: 'BASE', qty: 1 })) },
          { id: 'o-5', type: 'order.placed', order: 'o-5', pickup: 'S1', lines: [{ sku: 'BASE', qty: 1 }, { sku: 'BASE', qty: 0 }] },
          { id: 'o-6', type: 'order.placed', order: 'o-6', pickup: 'S1', lines: {} },
          { id: 'o-7', type: 'order.placed', order: 'o-7', pickup: 'WH', lines: line },
          { id: 'o-8', type: 'stock.transfer', transfer: 'o-t', sku: 'BASE', from: 'S1', to: 'S1', qty: 1 },
        ],
        'invalid_event',
      );
      // An order the stock cannot cover is refused whole: no line is held.
      await expectEachRefused(
        [{ id: 'o-9', type: 'order.placed', order: 'o-9', pickup: 'S1', lines: [{ sku: 'BASE', qty: 1 }, { sku: 'BASE-NONE', qty: 1 }] }],
        'insufficient_stock',
      );
    });
  });

  // render() builds `locations` as a plain object, so a location named "__proto__" (a valid id)
  // sets the object's prototype instead of adding a row: GET /v1/stock counts its units in the
  // totals but leaves its row out.
  it('a location named __proto__ is either refused or shown like any other', async () => {
    const upsert = await post([loc('proto-loc', '__proto__')]);
    if (!upsert.body.results[0].ok) {
      expect(upsert.body.results[0].error.code).toBe('invalid_event');
      return;
    }
    await post([received('proto-r1', 'PROTOLOC', 'S1', 2), received('proto-r2', 'PROTOLOC', '__proto__', 5)]);
    const { body } = await stockOf('PROTOLOC');
    expect(body.onHand).toBe(7);
    expect(Object.keys(body.locations).sort()).toEqual(['S1', '__proto__']);
    expect(body.locations.__proto__).toEqual({ onHand: 5, reserved: 0, safety: 0, available: 5 });
  });
});

describe('after all of it', () => {
  it('the server still answers /healthz and accepts a valid event', async () => {
    expect(await getJson(h.server.url, '/healthz')).toMatchObject({ status: 200, body: { ok: true } });
    const { body } = await post([received('after-fields-1', 'BASE', 'S1', 1)]);
    expect(body.results[0]).toMatchObject({ ok: true });
  });
});
