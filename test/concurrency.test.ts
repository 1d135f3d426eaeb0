// Races over real sockets against `omni serve --durability fsync` in its own process: every
// request of a race is written on its own connection before any answer is read, so the engine
// sees them arrive together, across several pipelined group commits. Every race runs against
// the engine in the request thread (--workers 1) and on a thread of its own (--workers 2).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventResult } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { getStock, postEvents, startServe, tempDirs, type RunningServe } from './fixtures/omni-process.ts';
import { openConnection, type RawConnection } from './gateway-raw-client.ts';

const SECRET = 'concurrency-test-secret';
const TOKEN = signToken({ sub: 'racer', role: 'ingest' }, SECRET);
const TTL_MS = 24 * 3600 * 1000;

const dirs = tempDirs('omni-concurrency-test-');
/** The server of the worker count being run. */
let server: RunningServe;
afterAll(() => dirs.cleanup());

async function setUp(events: unknown[]): Promise<void> {
  const { status, body } = await postEvents(server.url, TOKEN, events);
  expect(status).toBe(200);
  expect(body.results.filter((r: EventResult) => !r.ok)).toEqual([]);
}

/** Opens one connection per payload, writes every request, then reads every answer. */
async function race(payloads: unknown[]): Promise<EventResult[]> {
  const conns: RawConnection[] = [];
  try {
    for (let i = 0; i < payloads.length; i += 100) {
      conns.push(...(await Promise.all(payloads.slice(i, i + 100).map(() => openConnection(server.url)))));
    }
    const bodies = payloads.map((p) => JSON.stringify(p));
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` };
    conns.forEach((conn, i) => conn.send('POST', '/v1/events', headers, bodies[i]));
    const responses = await Promise.all(conns.map((conn) => conn.read()));
    return responses.map((response, i) => {
      expect(response.status, bodies[i]).toBe(200);
      const { results } = JSON.parse(response.body.toString('utf8')) as { results: EventResult[] };
      expect(results).toHaveLength(1);
      return results[0];
    });
  } finally {
    for (const conn of conns) conn.close();
  }
}

const outcome = (r: EventResult) => (r.ok ? 'ok' : r.error.code);

function tally(results: EventResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[outcome(r)] = (counts[outcome(r)] ?? 0) + 1;
  return counts;
}

async function stock(sku: string) {
  const { status, body } = await getStock(server.url, sku);
  expect(status).toBe(200);
  return body;
}

describe.each([1, 2])('omni serve --workers %i', (workers) => {
  beforeAll(async () => {
    server = await startServe({ dataDir: dirs.make(), secret: SECRET, workers });
    const setup = await postEvents(server.url, TOKEN, [
      { id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 31.2, lon: 121.5 },
      { id: 'l2', type: 'location.upserted', location: 'S2', kind: 'store', lat: 31.0, lon: 121.2 },
    ]);
    expect(setup.body.results.every((r: EventResult) => r.ok)).toBe(true);
  }, 30_000);

  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });

  describe('racing for the last units', () => {
    it('500 clients reserve 1 of the last 100 units at a store: exactly 100 succeed', async () => {
      await setUp([
        { id: 'last-in', type: 'stock.received', sku: 'LAST', location: 'S1', qty: 130 },
        { id: 'last-out', type: 'stock.sold', sku: 'LAST', location: 'S1', qty: 30 },
      ]);
      const results = await race(
        Array.from({ length: 500 }, (_, i) => ({ id: `last-${i}`, type: 'stock.reserve', reservation: `last-hold-${i}`, sku: 'LAST', location: 'S1', qty: 1, ttlMs: TTL_MS })),
      );
      expect(tally(results)).toEqual({ ok: 100, insufficient_stock: 400 });
      results.forEach((r, i) => expect(r.id).toBe(`last-${i}`));
      for (const r of results.filter((r) => r.ok)) expect(r).toMatchObject({ location: 'S1', expiresAt: expect.any(Number) });
      expect(await stock('LAST')).toMatchObject({ onHand: 100, reserved: 100, available: 0, locations: { S1: { onHand: 100, reserved: 100, available: 0 } } });

      // The winners hold real reservations, the losers none.
      const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
      const loser = results.findIndex((r) => !r.ok);
      const ends = await postEvents(server.url, TOKEN, [
        ...winners.map((i) => ({ id: `last-release-${i}`, type: 'stock.release', reservation: `last-hold-${i}` })),
        { id: 'last-release-loser', type: 'stock.release', reservation: `last-hold-${loser}` },
      ]);
      expect(tally(ends.body.results)).toEqual({ ok: 100, unknown_reservation: 1 });
      expect(await stock('LAST')).toMatchObject({ onHand: 100, reserved: 0, available: 100 });
    }, 30_000);

    it('500 clients reserve without a location over two stores holding 60 + 40: exactly 100 succeed, 60 and 40', async () => {
      await setUp([
        { id: 'two-in-1', type: 'stock.received', sku: 'TWO', location: 'S1', qty: 60 },
        { id: 'two-in-2', type: 'stock.received', sku: 'TWO', location: 'S2', qty: 40 },
      ]);
      const results = await race(
        Array.from({ length: 500 }, (_, i) => ({ id: `two-${i}`, type: 'stock.reserve', reservation: `two-hold-${i}`, sku: 'TWO', qty: 1, ttlMs: TTL_MS })),
      );
      expect(tally(results)).toEqual({ ok: 100, insufficient_stock: 400 });
      const byLocation: Record<string, number> = {};
      for (const r of results) if (r.ok) byLocation[r.location as string] = (byLocation[r.location as string] ?? 0) + 1;
      expect(byLocation).toEqual({ S1: 60, S2: 40 });
      expect(await stock('TWO')).toMatchObject({
        onHand: 100,
        reserved: 100,
        available: 0,
        locations: { S1: { reserved: 60, available: 0 }, S2: { reserved: 40, available: 0 } },
      });
    }, 30_000);

    it('reserves, pickup orders and transfers out race for the same 100 units: exactly 100 win in total', async () => {
      await setUp([{ id: 'mix-in', type: 'stock.received', sku: 'MIX', location: 'S1', qty: 100 }]);
      const kinds = ['reserve', 'order', 'transfer'] as const;
      const payloads = Array.from({ length: 300 }, (_, i) => {
        const kind = kinds[i % 3];
        if (kind === 'reserve') return { id: `mix-${i}`, type: 'stock.reserve', reservation: `mix-hold-${i}`, sku: 'MIX', location: 'S1', qty: 1, ttlMs: TTL_MS };
        if (kind === 'order') return { id: `mix-${i}`, type: 'order.placed', order: `mix-order-${i}`, pickup: 'S1', lines: [{ sku: 'MIX', qty: 1 }] };
        return { id: `mix-${i}`, type: 'stock.transfer', transfer: `mix-t-${i}`, sku: 'MIX', from: 'S1', to: 'S2', qty: 1 };
      });
      const results = await race(payloads);
      expect(tally(results)).toEqual({ ok: 100, insufficient_stock: 200 });
      const won = (kind: (typeof kinds)[number]) => results.filter((r, i) => r.ok && kinds[i % 3] === kind).length;
      const body = await stock('MIX');
      expect(body.locations.S1).toEqual({ onHand: 100 - won('transfer'), reserved: won('reserve') + won('order'), safety: 0, available: 0 });
      expect(body.locations.S2).toEqual({ onHand: won('transfer'), reserved: 0, safety: 0, available: won('transfer') });
    }, 30_000);
  });

  describe('racing on the same ids', () => {
    it('20 clients hold the same reservation id under 20 event ids: exactly one wins, the others conflict', async () => {
      await setUp([{ id: 'same-res-in', type: 'stock.received', sku: 'SAMERES', location: 'S1', qty: 50 }]);
      const results = await race(
        Array.from({ length: 20 }, (_, i) => ({ id: `same-res-${i}`, type: 'stock.reserve', reservation: 'the-hold', sku: 'SAMERES', location: 'S1', qty: 2, ttlMs: TTL_MS })),
      );
      expect(tally(results)).toEqual({ ok: 1, conflict: 19 });
      expect(results.some((r) => r.duplicate)).toBe(false);
      expect(await stock('SAMERES')).toMatchObject({ onHand: 50, reserved: 2, available: 48 });
    }, 30_000);

    it('50 clients send the same event id at once: all get the first answer, it is applied once', async () => {
      await setUp([{ id: 'same-ev-in', type: 'stock.received', sku: 'SAMEEV', location: 'S1', qty: 50 }]);
      const event = { id: 'same-ev', type: 'stock.reserve', reservation: 'same-ev-hold', sku: 'SAMEEV', location: 'S1', qty: 3, ttlMs: TTL_MS };
      const results = await race(Array.from({ length: 50 }, () => event));
      const firsts = results.filter((r) => !r.duplicate);
      expect(firsts).toHaveLength(1);
      expect(firsts[0]).toMatchObject({ id: 'same-ev', ok: true, reservation: 'same-ev-hold', location: 'S1', expiresAt: expect.any(Number) });
      for (const r of results) expect(r.duplicate ? r : { ...r, duplicate: true }).toEqual({ ...firsts[0], duplicate: true });
      expect(await stock('SAMEEV')).toMatchObject({ onHand: 50, reserved: 3, available: 47 });

      // And once more after the race: still the same first answer.
      const later = await postEvents(server.url, TOKEN, event);
      expect(later.body.results).toEqual([{ ...firsts[0], duplicate: true }]);
      expect(await stock('SAMEEV')).toMatchObject({ reserved: 3 });
    }, 30_000);
  });
});
