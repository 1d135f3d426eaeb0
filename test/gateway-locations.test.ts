// GET /v1/locations through a real gateway and engine: every declared location with kind, name and
// position, readable by exactly the callers that may read GET /v1/stock/:sku, JSON or msgpack.

import { unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../gateway/mod.ts';
import { bearer, getJson, postJson, received, startTestServer, type TestServer } from './gateway-harness.ts';

let open: TestServer;
let closed: TestServer;

const declare = (id: string, location: string, fields: Record<string, unknown>) => ({ id, type: 'location.upserted', location, kind: 'store', lat: 0, lon: 0, ...fields });

async function mustApply(server: TestServer, events: unknown[]) {
  const answer = await postJson(server.url, events, bearer(server.token('ingest', 'feed')));
  expect(answer.body.results.map((r: { ok: boolean }) => r.ok)).toEqual(events.map(() => true));
}

beforeAll(async () => {
  [open, closed] = await Promise.all([startTestServer(), startTestServer({ publicStock: false })]);
  for (const server of [open, closed]) {
    await mustApply(server, [
      declare('l-b', 'berlin-1', { name: 'Berlin Mitte', lat: 52.52, lon: 13.4 }),
      declare('l-w', 'wh-1', { kind: 'warehouse', lat: 50.11, lon: 8.68, lowStock: 3 }),
      received('r', 'P', 'berlin-1', 1),
    ]);
  }
});

afterAll(() => Promise.all([open?.stop(), closed?.stop()]));

describe('GET /v1/locations', () => {
  it('lists every declared location by id, a name only where one was given, the low-stock threshold that applies', async () => {
    const { status, body } = await getJson(open.url, '/v1/locations');
    expect(status).toBe(200);
    expect(body).toEqual({
      locations: [
        { location: 'berlin-1', kind: 'store', name: 'Berlin Mitte', lat: 52.52, lon: 13.4, lowStock: 5 },
        { location: 'wh-1', kind: 'warehouse', lat: 50.11, lon: 8.68, lowStock: 3 },
      ],
    });
  });

  it('shows the newest name of a location declared again, and a new location at once', async () => {
    await mustApply(open, [declare('l-b2', 'berlin-1', { name: 'Berlin Alexanderplatz', lat: 52.52, lon: 13.41 }), declare('l-a', 'aachen-1', { lat: 50.77, lon: 6.08 })]);
    const { body } = await getJson(open.url, '/v1/locations');
    expect(body.locations.map((l: { location: string }) => l.location)).toEqual(['aachen-1', 'berlin-1', 'wh-1']);
    expect(body.locations[1]).toEqual({ location: 'berlin-1', kind: 'store', name: 'Berlin Alexanderplatz', lat: 52.52, lon: 13.41, lowStock: 5 });
  });

  it('answers msgpack when asked to', async () => {
    const response = await fetch(`${closed.url}/v1/locations`, { headers: { accept: 'application/msgpack', ...bearer(closed.token('customer', 'c1')) } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/msgpack');
    expect(unpack(Buffer.from(await response.arrayBuffer()))).toEqual({
      locations: [
        { location: 'berlin-1', kind: 'store', name: 'Berlin Mitte', lat: 52.52, lon: 13.4, lowStock: 5 },
        { location: 'wh-1', kind: 'warehouse', lat: 50.11, lon: 8.68, lowStock: 3 },
      ],
    });
  });

  it('shows ship sourcing where it was declared: ships only when false, shipCapacity when given, both gone when declared again without', async () => {
    const server = await startTestServer();
    try {
      await mustApply(server, [declare('s1', 'hh-1', { ships: false }), declare('s2', 'wh-9', { kind: 'warehouse', shipCapacity: 40 }), declare('s3', 'x-1', { ships: true })]);
      expect((await getJson(server.url, '/v1/locations')).body.locations).toEqual([
        { location: 'hh-1', kind: 'store', lat: 0, lon: 0, lowStock: 5, ships: false },
        { location: 'wh-9', kind: 'warehouse', lat: 0, lon: 0, lowStock: 5, shipCapacity: 40 },
        { location: 'x-1', kind: 'store', lat: 0, lon: 0, lowStock: 5 },
      ]);
      await mustApply(server, [declare('s4', 'hh-1', {}), declare('s5', 'wh-9', { kind: 'warehouse', shipCapacity: 0 })]);
      expect((await getJson(server.url, '/v1/locations')).body.locations.slice(0, 2)).toEqual([
        { location: 'hh-1', kind: 'store', lat: 0, lon: 0, lowStock: 5 },
        { location: 'wh-9', kind: 'warehouse', lat: 0, lon: 0, lowStock: 5, shipCapacity: 0 },
      ]);
    } finally {
      await server.stop();
    }
  });

  it('is an empty list before any location is declared', async () => {
    const empty = await startTestServer();
    try {
      expect(await getJson(empty.url, '/v1/locations')).toMatchObject({ status: 200, body: { locations: [] } });
    } finally {
      await empty.stop();
    }
  });

  it('is readable by exactly the callers that may read stock, public or not', async () => {
    const roles: Role[] = ['customer', 'kiosk', 'agent', 'supervisor', 'ingest', 'admin'];
    for (const [server, publicStock] of [[open, true], [closed, false]] as const) {
      const callers: Array<[string, Record<string, string>]> = [
        ['anonymous', {}],
        ['bad token', { authorization: 'Bearer x.y.z' }],
        ...roles.map((role): [string, Record<string, string>] => [role, bearer(server.token(role, `${role}-1`))]),
      ];
      const statuses: Record<string, number> = {};
      for (const [caller, headers] of callers) {
        const locations = await getJson(server.url, '/v1/locations', headers);
        const stock = await getJson(server.url, '/v1/stock/P', headers);
        expect(locations.status, `${caller}, public stock ${publicStock}`).toBe(stock.status);
        if (locations.status !== 200) expect(locations.body.error.code).toBe(stock.body.error.code);
        statuses[caller] = locations.status;
      }
      expect(statuses).toEqual({
        anonymous: publicStock ? 200 : 401,
        'bad token': 401,
        customer: 200,
        kiosk: 200,
        agent: 403,
        supervisor: 200,
        ingest: 200,
        admin: 200,
      });
    }
  });

  it('is GET only', async () => {
    const response = await fetch(`${open.url}/v1/locations`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
