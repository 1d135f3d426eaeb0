import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, getJson, location, postJson, received, startTestServer, type TestServer } from './gateway-harness.ts';

const MiB = 1024 * 1024;

let server: TestServer;
let ingest: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  ingest = bearer(server.token('ingest', 'feed'));
  const setup = await postJson(server.url, [location('loc-1', 'S1'), location('loc-2', 'S2')], ingest);
  expect(setup.body.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, true]);
});

afterAll(() => server?.stop());

/** A one-event JSON array of exactly `bytes` bytes. */
function jsonOfSize(bytes: number): string {
  const shell = JSON.stringify([{ id: 'big', type: 'x', pad: '' }]);
  const body = JSON.stringify([{ id: 'big', type: 'x', pad: 'x'.repeat(bytes - shell.length) }]);
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

async function expectStillServing() {
  const health = await getJson(server.url, '/healthz');
  expect(health).toMatchObject({ status: 200, body: { ok: true } });
}

describe('POST /v1/events', () => {
  it('answers each event of a JSON array in order, once applied', async () => {
    const { status, body } = await postJson(
      server.url,
      [received('a-1', 'A', 'S1', 5), { id: 'a-2', type: 'no.such.type' }, received('a-3', 'A', 'NOWHERE', 1), received('a-4', 'A', 'S2', 2)],
      ingest,
    );
    expect(status).toBe(200);
    expect(body.results.map((r: any) => [r.id, r.ok, r.error?.code])).toEqual([
      ['a-1', true, undefined],
      ['a-2', false, 'unknown_type'],
      ['a-3', false, 'unknown_location'],
      ['a-4', true, undefined],
    ]);
    const stock = await getJson(server.url, '/v1/stock/A');
    expect(stock.body).toMatchObject({ sku: 'A', onHand: 7, available: 7 });
  });

  it('accepts a single event object and marks a repeated id as duplicate', async () => {
    const first = await postJson(server.url, received('single-1', 'B', 'S1', 1), ingest);
    expect(first).toMatchObject({ status: 200, body: { results: [{ id: 'single-1', ok: true }] } });
    const again = await postJson(server.url, received('single-1', 'B', 'S1', 1), ingest);
    expect(again.body.results).toEqual([{ id: 'single-1', ok: true, duplicate: true }]);
  });

  it('speaks msgpack when the request does', async () => {
    const response = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', ...ingest },
      body: pack([received('mp-1', 'MP', 'S1', 3), { id: 'mp-2', type: 'bogus' }]),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/msgpack');
    const body = unpack(Buffer.from(await response.arrayBuffer()));
    expect(body.results.map((r: any) => [r.id, r.ok])).toEqual([
      ['mp-1', true],
      ['mp-2', false],
    ]);
  });

  it('answers an empty array with no results', async () => {
    expect(await postJson(server.url, [], ingest)).toMatchObject({ status: 200, body: { results: [] } });
  });

  it('accepts exactly 10,000 events and streams the large answer', async () => {
    const events = Array.from({ length: 10_000 }, (_, i) => ({ id: `max-${i}`, type: 'unknown.kind', pad: 'x'.repeat(200) }));
    const { status, body } = await postJson(server.url, events, ingest);
    expect(status).toBe(200);
    expect(body.results).toHaveLength(10_000);
    expect(body.results[9_999]).toMatchObject({ id: 'max-9999', ok: false });
  });

  describe('refusals', () => {
    it('401 without a token, with a bad one and with an expired one', async () => {
      const expired = (await import('../gateway/mod.ts')).signToken({ sub: 'x', role: 'ingest', exp: 1 }, 'gateway-test-secret');
      for (const headers of [{}, { authorization: 'Bearer not.a.token' }, bearer(expired), { authorization: `Basic ${server.token('ingest')}` }]) {
        const { status, body } = await postJson(server.url, [received('u-1', 'U', 'S1', 1)], headers);
        expect(status).toBe(401);
        expect(body.error.code).toBe('unauthorized');
      }
      expect((await getJson(server.url, '/v1/stock/U')).status).toBe(404);
    });

    it('413 for a body of 4 MiB + 1 byte with the length declared; exactly 4 MiB is read', async () => {
      const atLimit = await postJson(server.url, jsonOfSize(4 * MiB), ingest);
      expect(atLimit).toMatchObject({ status: 200, body: { results: [{ id: 'big', ok: false }] } });
      const over = await postJson(server.url, jsonOfSize(4 * MiB + 1), ingest);
      expect(over).toMatchObject({ status: 413, body: { error: { code: 'too_large' } } });
      await expectStillServing();
    });

    it('413 for an oversized chunked upload, without reading it all first', async () => {
      const chunk = new Uint8Array(256 * 1024).fill(0x20);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          // Never more than ~8 MiB, so the test ends even if the server kept reading.
          if (sent >= 8 * MiB) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const response = await fetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ingest },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: 'too_large' } });
      await expectStillServing();
    });

    it('413 for 10,001 events, and none is applied', async () => {
      const events = Array.from({ length: 10_001 }, (_, i) => received(`many-${i}`, 'MANY', 'S1', 1));
      const result = await postJson(server.url, events, ingest);
      expect(result).toMatchObject({ status: 413, body: { error: { code: 'too_large' } } });
      expect((await getJson(server.url, '/v1/stock/MANY')).status).toBe(404);
      await expectStillServing();
    });

    it('400 for bodies that cannot be parsed or are not events, and nothing is applied', async () => {
      const batchesBefore = server.engine.stats().batches;
      for (const body of ['{"id":"x",', '', 'null', '42', '"event"', 'true', `[${JSON.stringify(received('half', 'H', 'S1', 1))}`]) {
        const result = await postJson(server.url, body, ingest);
        expect(result.status, body).toBe(400);
        expect(result.body.error.code).toBe('bad_request');
      }
      for (const body of [Buffer.from([0xc1]), Buffer.from([0x92, 0x01]), pack(42), Buffer.concat([pack(received('two', 'H', 'S1', 1)), pack(1)])]) {
        const response = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/msgpack', ...ingest }, body });
        expect(response.status, body.toString('hex')).toBe(400);
        expect(unpack(Buffer.from(await response.arrayBuffer()))).toMatchObject({ error: { code: 'bad_request' } });
      }
      expect(server.engine.stats().batches).toBe(batchesBefore);
      expect((await getJson(server.url, '/v1/stock/H')).status).toBe(404);
      await expectStillServing();
    });
  });

  it('refuses per event what a role may not send, and submits the rest in order', async () => {
    const kiosk = bearer(server.token('kiosk', 'k1', 'S1'));
    const { status, body } = await postJson(
      server.url,
      [
        received('k-stock', 'K', 'S1', 9),
        { id: 'k-view', type: 'activity.viewed', subject: 'c1', sku: 'A', channel: 'store', location: 'S1' },
        { id: 'k-elsewhere', type: 'activity.viewed', subject: 'c1', sku: 'A', channel: 'store', location: 'S2' },
        42,
      ],
      kiosk,
    );
    expect(status).toBe(200);
    expect(body.results.map((r: any) => [r.id, r.error?.code === 'forbidden'])).toEqual([
      ['k-stock', true],
      ['k-view', false],
      ['k-elsewhere', true],
      [null, true],
    ]);
    expect((await getJson(server.url, '/v1/stock/K')).status).toBe(404);
  });

  it('a role that may send nothing gets forbidden answers, not a submit', async () => {
    const { status, body } = await postJson(server.url, [received('sup-1', 'SUP', 'S1', 1)], bearer(server.token('supervisor')));
    expect(status).toBe(200);
    expect(body.results).toEqual([{ id: 'sup-1', ok: false, error: { code: 'forbidden', message: expect.any(String) } }]);
  });
});

describe('GET /v1/stock/:sku', () => {
  it('returns the committed totals with seq, URL-decoding the sku', async () => {
    const sku = 'SKU/1 é';
    await postJson(server.url, [received('enc-1', sku, 'S1', 4), received('enc-2', sku, 'S2', 1)], ingest);
    const { status, body } = await getJson(server.url, `/v1/stock/${encodeURIComponent(sku)}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      sku,
      onHand: 5,
      reserved: 0,
      available: 5,
      locations: {
        S1: { onHand: 4, reserved: 0, safety: 0, available: 4 },
        S2: { onHand: 1, reserved: 0, safety: 0, available: 1 },
      },
      seq: expect.any(Number),
    });
    expect(body.seq).toBeGreaterThan(0);
  });

  it('answers msgpack when asked to', async () => {
    const response = await fetch(`${server.url}/v1/stock/A`, { headers: { accept: 'application/msgpack' } });
    expect(response.headers.get('content-type')).toBe('application/msgpack');
    expect(unpack(Buffer.from(await response.arrayBuffer()))).toMatchObject({ sku: 'A' });
  });

  it('404 for a sku never seen, 400 for broken percent-encoding', async () => {
    expect(await getJson(server.url, '/v1/stock/NEVER')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await getJson(server.url, '/v1/stock/%E0%A4%A')).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
  });

  it('refuses a bad token even though stock is public', async () => {
    expect((await getJson(server.url, '/v1/stock/A', { authorization: 'Bearer x.y.z' })).status).toBe(401);
  });

  it('without public stock: anonymous 401, customer 200, agent 403', async () => {
    const closed = await startTestServer({ publicStock: false });
    try {
      await postJson(closed.url, [location('l', 'S1'), received('r', 'P', 'S1', 1)], bearer(closed.token('admin')));
      expect((await getJson(closed.url, '/v1/stock/P')).status).toBe(401);
      expect((await getJson(closed.url, '/v1/stock/P', bearer(closed.token('customer', 'c1')))).status).toBe(200);
      expect(await getJson(closed.url, '/v1/stock/P', bearer(closed.token('agent', 'a1')))).toMatchObject({
        status: 403,
        body: { error: { code: 'forbidden' } },
      });
    } finally {
      await closed.stop();
    }
  });
});

describe('routes, health and metrics', () => {
  it('404 for unknown routes, 405 with Allow for wrong methods', async () => {
    expect(await getJson(server.url, '/v2/nothing')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const wrong = await getJson(server.url, '/v1/events');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const del = await fetch(`${server.url}/v1/stock/A`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET');
  });

  it('healthz and readyz answer 200 while serving', async () => {
    expect(await getJson(server.url, '/healthz')).toMatchObject({ status: 200, body: { ok: true } });
    expect(await getJson(server.url, '/readyz')).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('exposes the engine, commit and HTTP metric families in Prometheus text', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    for (const family of [
      'omni_events_total',
      'omni_commit_batch_events',
      'omni_commit_seconds',
      'omni_state_entries',
      'omni_state_bytes',
      'omni_http_requests_total',
      'process_cpu_user_seconds_total',
    ]) {
      expect(text, family).toContain(`# TYPE ${family} `);
    }
    expect(text).toMatch(/omni_events_total\{type="stock.received",result="ok"\} \d+/);
    expect(text).toMatch(/omni_http_requests_total\{route="\/v1\/events",status="413"\} \d+/);
    expect(text).toMatch(/omni_commit_batch_events_count [1-9]\d*/);
    // The cluster figures belong to `omni serve --nats` only.
    expect(text).not.toMatch(/omni_(cluster|nats)_/);
  });

  it('503 unavailable when the engine is closed under the gateway', async () => {
    const doomed = await startTestServer();
    try {
      await doomed.engine.close();
      const result = await postJson(doomed.url, [received('late', 'L', 'S1', 1)], bearer(doomed.token('ingest')));
      expect(result).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      expect((await getJson(doomed.url, '/readyz')).status).toBe(503);
    } finally {
      await doomed.stop();
    }
  });
});
