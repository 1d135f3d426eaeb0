// The gateway behind a real nginx running the configuration in docs/deployment.md: what the
// gateway alone leaves unanswered (HTTP/1.0, bare LF, absolute-form URLs, many headers, no Host)
// is answered through it at once, HTTP/1.0 events are applied, ambiguous lengths never reach the
// gateway, and WebSockets pass.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, type Exchange } from './raw-exchange.ts';
import { received, useHostileServer } from './hostile-harness.ts';
import { startNginx, type Nginx } from './nginx-harness.ts';
import { WsClient } from './ws-harness.ts';

const hostile = useHostileServer();
let nginx: Nginx;

beforeAll(async () => {
  nginx = await startNginx(hostile.server.gateway.port);
});
afterAll(() => nginx?.stop());

/** Below the gateway's silent close after 8–12 s, so only a real answer passes. */
const AT_ONCE_MS = 5_000;

const viaNginx = (raw: string) => exchange(nginx.port, [raw], AT_ONCE_MS);
const auth = () => `Authorization: ${hostile.ingest.authorization}`;

function postRaw(version: string, events: unknown[], extra: string[] = []): string {
  const body = JSON.stringify(events);
  const head = [`POST /v1/events ${version}`, auth(), 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, ...extra];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

function expectAnswered(answer: Exchange, status: number): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.closedBy).toBe('server');
}

describe('HTTP/1.0 through nginx', () => {
  it('a POST without Host is answered, closed, and its event applied', async () => {
    const before = (await hostile.stockOf('BASE')).body.locations.S1.onHand;
    const answer = await viaNginx(postRaw('HTTP/1.0', [received('via-nginx-1', 'BASE', 'S1', 3)]));
    expectAnswered(answer, 200);
    expect(JSON.parse(answer.body)).toEqual({ results: [{ id: 'via-nginx-1', ok: true }] });
    expect((await hostile.stockOf('BASE')).body.locations.S1.onHand).toBe(before + 3);
  });

  it('a GET is answered with the gateway JSON', async () => {
    const answer = await viaNginx('GET /v1/stock/BASE HTTP/1.0\r\n\r\n');
    expectAnswered(answer, 200);
    expect(JSON.parse(answer.body)).toMatchObject({ sku: 'BASE', locations: { S1: expect.any(Object) } });
  });
});

describe('malformed requests the gateway alone would leave unanswered', () => {
  const filler = Array.from({ length: 60 }, (_, i) => `X-Filler-${i}: ${i}`);

  it.each([
    ['bare LF line ends', 200, 'GET /v1/stock/BASE HTTP/1.1\nHost: shop\nConnection: close\n\n'],
    ['an absolute-form URL', 200, 'GET http://shop/v1/stock/BASE HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n'],
    ['61 headers', 200, `GET /v1/stock/BASE HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n${filler.join('\r\n')}\r\n\r\n`],
    ['HTTP/1.1 without Host', 400, 'GET /v1/stock/BASE HTTP/1.1\r\nConnection: close\r\n\r\n'],
  ])('%s: %i at once', async (_name, status, raw) => {
    expectAnswered(await viaNginx(raw), status);
  });
});

describe('ambiguous lengths are refused by nginx before the gateway sees them', () => {
  it.each([
    ['two Content-Length headers', ['Host: shop', 'Content-Length: 2']],
    ['Content-Length with Transfer-Encoding', ['Host: shop', 'Transfer-Encoding: chunked']],
  ])('%s: 400, nothing applied', async (_name, extra) => {
    await hostile.changesNothing(['BASE'], async () => {
      expectAnswered(await viaNginx(postRaw('HTTP/1.1', [received('ambiguous-via-nginx', 'BASE', 'S1', 5)], extra)), 400);
    });
  });

  it('a chunked upload is passed on with a length and applied', async () => {
    const body = JSON.stringify([received('chunked-via-nginx', 'BASE', 'S2', 2)]);
    const chunked = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const head = ['POST /v1/events HTTP/1.1', 'Host: shop', auth(), 'Content-Type: application/json', 'Transfer-Encoding: chunked', 'Connection: close'];
    const answer = await viaNginx(`${head.join('\r\n')}\r\n\r\n${chunked}`);
    expectAnswered(answer, 200);
    expect(JSON.parse(answer.body)).toEqual({ results: [{ id: 'chunked-via-nginx', ok: true }] });
  });
});

it('a WebSocket subscribes through nginx', async () => {
  const client = await WsClient.open(`ws://127.0.0.1:${nginx.port}/v1/ws`);
  try {
    const snapshot = await client.sub('stock/BASE');
    expect(snapshot).toMatchObject({ op: 'snapshot', topic: 'stock/BASE', data: { sku: 'BASE' } });
  } finally {
    client.ws.close();
  }
});
