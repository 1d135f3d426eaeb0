// The hostile-input tests' shared set-up: a real gateway and engine, an ingest token, three
// locations and a SKU with stock, and helpers that post raw bodies and prove a refusal changed
// nothing. Every refusal must carry the right status and error code, must change nothing (GET
// /v1/stock before and after, seq included), and must leave the server serving.

import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, expect } from 'vitest';
import type { EventResult } from '../engine/mod.ts';
import { bearer, getJson, startTestServer, type TestServer } from './gateway-harness.ts';

export interface Answer {
  status: number;
  body: any;
}

export const loc = (id: string, location: string, kind = 'store') => ({ id, type: 'location.upserted', location, kind, lat: 31.2, lon: 121.5 });
export const received = (id: string, sku: string, location: string, qty: unknown) => ({ id, type: 'stock.received', sku, location, qty });

export interface HostileServer {
  readonly server: TestServer;
  readonly ingest: Record<string, string>;
  /** POSTs a body as is (a string or bytes) or as JSON; decodes the answer in the format it came in. */
  post(body: unknown, contentType?: string): Promise<Answer>;
  postMsgpack(value: unknown): Promise<Answer>;
  stockOf(sku: string): Promise<Answer>;
  /** Runs `fn` and checks that the stock of `skus` (seq included) is exactly as before. */
  changesNothing(skus: string[], fn: () => Promise<void>): Promise<void>;
  /** Sends each event alone; each must be answered 200 with a per-event refusal of `code`. */
  expectEachRefused(events: unknown[], code: string): Promise<void>;
}

/** Starts the server before the file's tests and stops it after them. */
export function useHostileServer(): HostileServer {
  let server: TestServer | undefined;
  let ingest: Record<string, string> = {};

  const post = async (body: unknown, contentType = 'application/json'): Promise<Answer> => {
    const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const response = await fetch(`${server!.url}/v1/events`, { method: 'POST', headers: { 'content-type': contentType, ...ingest }, body: raw });
    const bytes = Buffer.from(await response.arrayBuffer());
    const isMsgpack = response.headers.get('content-type') === 'application/msgpack';
    return { status: response.status, body: isMsgpack ? unpack(bytes) : JSON.parse(bytes.toString('utf8')) };
  };
  const stockOf = async (sku: string): Promise<Answer> => {
    const { status, body } = await getJson(server!.url, `/v1/stock/${encodeURIComponent(sku)}`);
    return { status, body };
  };

  beforeAll(async () => {
    server = await startTestServer();
    ingest = bearer(server.token('ingest', 'feed'));
    const setup = await post([loc('l1', 'S1'), loc('l2', 'S2'), loc('l3', 'WH', 'warehouse'), received('base-1', 'BASE', 'S1', 10), received('base-2', 'BASE', 'S2', 4)]);
    expect(setup.body.results.every((r: EventResult) => r.ok)).toBe(true);
  });
  afterAll(() => server?.stop());

  return {
    get server() {
      return server!;
    },
    get ingest() {
      return ingest;
    },
    post,
    postMsgpack: (value) => post(Buffer.isBuffer(value) ? value : pack(value), 'application/msgpack'),
    stockOf,
    async changesNothing(skus, fn) {
      const before = await Promise.all(skus.map(stockOf));
      await fn();
      const after = await Promise.all(skus.map(stockOf));
      skus.forEach((sku, i) => expect(after[i], `stock of ${sku}`).toEqual(before[i]));
    },
    async expectEachRefused(events, code) {
      for (const event of events) {
        const { status, body } = await post([event]);
        const label = JSON.stringify(event, (_k, v) => (typeof v === 'string' && v.length > 40 ? `${v.slice(0, 20)}…(${v.length})` : v));
        expect(status, label).toBe(200);
        expect(body.results, label).toHaveLength(1);
        expect(body.results[0], label).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
        // Every event given here has a valid id: the answer names it.
        expect(body.results[0].id, label).toBe((event as { id: string }).id);
      }
    },
  };
}
