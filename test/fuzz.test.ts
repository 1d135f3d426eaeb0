// The fuzz suite: hostile bodies for every event type and hostile WebSocket frames for every op,
// sent to a real server, interleaved with a stream of valid events whose effect is known. The
// server must answer each hostile request with a code, stay up, and end with exactly the state
// the valid stream makes. `npm test` runs a bounded number of cases; `npm run fuzz` many more
// (OMNI_FUZZ_RUNS, OMNI_FUZZ_SEED pick how many and which).

import fc from 'fast-check';
import { unpack } from 'msgpackr';
import { isUtf8 } from 'node:buffer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../engine/mod.ts';
import { bearer, getJson, startTestServer, type TestServer } from './gateway-harness.ts';
import { hostileBody, hostileFrame } from './fuzz-arbitraries.ts';
import { WsClient } from './ws-harness.ts';

const RUNS = Number(process.env.OMNI_FUZZ_RUNS ?? 120);
const SEED = process.env.OMNI_FUZZ_SEED === undefined ? undefined : Number(process.env.OMNI_FUZZ_SEED);
/** Generous: a long `npm run fuzz` takes as long as its count. */
const TIMEOUT_MS = 60_000 + RUNS * 200;

const CODES = new Set<string>([...ERROR_CODES, 'bad_frame', 'too_many_subscriptions']);
const MODEL_SKUS = ['model-A', 'model-B'];
const MODEL_LOCATION = 'model-loc';

let server: TestServer;
let auth: Record<string, string>;
const expected = new Map<string, number>(MODEL_SKUS.map((s) => [s, 0]));
let modelEvents = 0;

beforeAll(async () => {
  server = await startTestServer();
  auth = bearer(server.token('ingest'));
  const declared = await post(Buffer.from(JSON.stringify({ id: 'model-loc', type: 'location.upserted', location: MODEL_LOCATION, kind: 'store', lat: 0, lon: 0 })), 'json');
  expect(declared.body.results[0].ok).toBe(true);
});
afterAll(() => server.stop());

async function post(bytes: Buffer, format: 'json' | 'msgpack') {
  const response = await fetch(`${server.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': format === 'json' ? 'application/json' : 'application/msgpack', ...auth },
    body: bytes,
  });
  const raw = Buffer.from(await response.arrayBuffer());
  const isMsgpack = response.headers.get('content-type') === 'application/msgpack';
  return { status: response.status, body: (isMsgpack ? unpack(raw) : JSON.parse(raw.toString('utf8'))) as any };
}

/** One valid event of the model stream: its effect on the model SKUs is known. */
function modelEvent(pick: number, qty: number): Record<string, unknown> {
  const sku = MODEL_SKUS[pick % MODEL_SKUS.length];
  const sold = pick % 3 === 0;
  expected.set(sku, expected.get(sku)! + (sold ? -qty : qty));
  return { id: `model-${++modelEvents}`, type: sold ? 'stock.sold' : 'stock.received', sku, location: MODEL_LOCATION, qty };
}

function expectAnswered(status: number, body: any, label: string): void {
  expect([200, 400, 413], label).toContain(status);
  if (status !== 200) {
    expect(CODES.has(body.error?.code), `${label}: ${JSON.stringify(body)}`).toBe(true);
    return;
  }
  expect(Array.isArray(body.results), label).toBe(true);
  for (const r of body.results) {
    expect(typeof r.ok, label).toBe('boolean');
    if (!r.ok) expect(CODES.has(r.error?.code), `${label}: ${JSON.stringify(r)}`).toBe(true);
  }
}

async function expectModelState(): Promise<void> {
  for (const [sku, onHand] of expected) {
    const { status, body } = await getJson(server.url, `/v1/stock/${sku}`);
    if (onHand === 0 && status === 404) continue;
    expect(body.onHand, sku).toBe(onHand);
  }
}

describe('fuzz', () => {
  it(
    'HTTP: every hostile body is answered with a code, the server stays up, valid events end exactly right',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(hostileBody, { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 1, max: 50 }), async (bodies, pick, qty) => {
          for (const { format, bytes } of bodies) {
            const { status, body } = await post(bytes, format);
            expectAnswered(status, body, `${format} ${bytes.subarray(0, 120).toString('latin1')}`);
          }
          const model = await post(Buffer.from(JSON.stringify([modelEvent(pick, qty)])), 'json');
          expect(model.body.results[0].ok).toBe(true);
        }),
        { numRuns: RUNS, seed: SEED },
      );
      await expectModelState();
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    },
    TIMEOUT_MS,
  );

  it(
    'WebSocket: every hostile frame is answered in order, the server stays up, valid events end exactly right',
    async () => {
      const wsUrl = `${server.url.replace('http', 'ws')}/v1/ws`;
      let client = await WsClient.open(wsUrl, { token: server.token('admin') });
      let pings = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(hostileFrame, { minLength: 1, maxLength: 6 }), fc.nat(), fc.integer({ min: 1, max: 50 }), async (frames, pick, qty) => {
            // A client closed for too many bad frames (or a frame over the size limit) reconnects.
            if (client.ws.readyState !== client.ws.OPEN) client = await WsClient.open(wsUrl, { token: server.token('admin') });
            const from = client.messages.length;
            for (const { binary, bytes } of frames) client.sendRaw(bytes, binary);
            // Answers come in order: once the ping after them is answered, every frame before it was handled.
            const id = `fuzz-${++pings}`;
            client.send({ op: 'ping', id });
            const closedFirst = await Promise.race([client.next((m) => m.op === 'pong' && m.id === id, from).then(() => false), client.closed.then(() => true)]);
            if (closedFirst) {
              const { code } = await client.closed;
              // Closed on purpose: too many bad frames (policy) or a frame too large; a text
              // frame that is not UTF-8 breaks the WebSocket protocol itself, and the
              // WebSocket library drops the connection (1006 here, 1007 by the RFC).
              const notUtf8 = frames.some((f) => !f.binary && !isUtf8(f.bytes));
              expect(notUtf8 ? [1006, 1007, 1008, 1009] : [1008, 1009]).toContain(code);
            }
            for (const m of client.messages.slice(from)) {
              if (m.op === 'error') expect(CODES.has(m.code), JSON.stringify(m)).toBe(true);
              if (m.op === 'result') {
                expect(typeof m.ok).toBe('boolean');
                if (!m.ok) expect(CODES.has(m.error?.code), JSON.stringify(m)).toBe(true);
              }
            }
            // The valid stream goes through the same socket when it is open.
            if (client.ws.readyState !== client.ws.OPEN) client = await WsClient.open(wsUrl, { token: server.token('admin') });
            const event = modelEvent(pick, qty);
            const at = client.messages.length;
            client.send({ op: 'event', event });
            const { msg } = await client.next((m) => m.op === 'result' && m.ref === event.id, at);
            expect(msg.ok).toBe(true);
          }),
          { numRuns: RUNS, seed: SEED },
        );
      } finally {
        await client.close();
      }
      await expectModelState();
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    },
    TIMEOUT_MS,
  );
});
