// HTTP framing on a raw socket: every malformed or ambiguous request is answered or its
// connection closed by the server, none is applied, and the server keeps serving. Ambiguous body
// lengths are refused by the gateway (400 bad_request, connection closed); what uWS's own parser
// refuses never reaches a route, and these tests pin what a client sees then, as
// docs/deployment.md describes it (an nginx in front answers those: test/http-nginx.test.ts).

import { describe, expect, it } from 'vitest';
import { exchange, type Exchange } from './raw-exchange.ts';
import { received, useHostileServer } from './hostile-harness.ts';

const hostile = useHostileServer();

/** Closes at once: well under uWS's idle close (8–12 s), so a silent hang cannot pass for it. */
const AT_ONCE_MS = 5_000;
/** uWS closes a connection whose request it cannot parse after its idle timeout, 8–12 s. */
const IDLE_CLOSE_MS = 30_000;

const port = () => hostile.server.gateway.port;
const eventBody = (...events: unknown[]) => JSON.stringify(events);

/** A POST /v1/events head with the ingest token; `framing` holds the length headers. */
function postHead(framing: string[]): string {
  const lines = ['POST /v1/events HTTP/1.1', 'Host: gateway', `Authorization: ${hostile.ingest.authorization}`, 'Content-Type: application/json', ...framing];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function expectRefused400(answer: Exchange, message: string): void {
  expect(answer.status, answer.text).toBe(400);
  expect(JSON.parse(answer.body)).toEqual({ error: { code: 'bad_request', message } });
  expect(answer.headers.connection).toBe('close');
  expect(answer.closedBy).toBe('server');
}

function expectClosedWithoutAnswer(answer: Exchange): void {
  expect(answer.text).toBe('');
  expect(answer.closedBy).toBe('server');
}

/** A normal request right after: the server still serves and applies. */
async function expectStillServing(id: string): Promise<void> {
  const before = (await hostile.stockOf('BASE')).body;
  const { status, body } = await hostile.post([received(id, 'BASE', 'S1', 1)]);
  expect(status).toBe(200);
  expect(body.results[0]).toMatchObject({ id, ok: true });
  expect((await hostile.stockOf('BASE')).body.seq).toBeGreaterThan(before.seq);
}

describe('ambiguous body length: 400 bad_request, connection closed, nothing applied', () => {
  const body = eventBody(received('amb-1', 'BASE', 'S1', 5));
  const length = Buffer.byteLength(body);

  it('two different Content-Length headers', async () => {
    await hostile.changesNothing(['BASE'], async () => {
      const answer = await exchange(port(), [postHead([`Content-Length: ${length}`, 'Content-Length: 2']) + body], AT_ONCE_MS);
      expectRefused400(answer, 'more than one Content-Length header');
    });
    await expectStillServing('after-two-lengths');
  });

  it('two equal Content-Length headers (never guessed to be one)', async () => {
    await hostile.changesNothing(['BASE'], async () => {
      const answer = await exchange(port(), [postHead([`Content-Length: ${length}`, `Content-Length: ${length}`]) + body], AT_ONCE_MS);
      expectRefused400(answer, 'more than one Content-Length header');
    });
  });

  it('an empty Content-Length before a real one', async () => {
    await hostile.changesNothing(['BASE'], async () => {
      const answer = await exchange(port(), [postHead(['Content-Length:', `Content-Length: ${length}`]) + body], AT_ONCE_MS);
      expectRefused400(answer, 'more than one Content-Length header');
    });
  });

  it('Content-Length with an empty Transfer-Encoding, and an empty Content-Length with chunked', async () => {
    await hostile.changesNothing(['BASE'], async () => {
      const withLength = await exchange(port(), [postHead([`Content-Length: ${length}`, 'Transfer-Encoding:']) + body], AT_ONCE_MS);
      expectRefused400(withLength, 'Content-Length together with Transfer-Encoding');
      const chunked = `${length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const withChunked = await exchange(port(), [postHead(['Content-Length:', 'Transfer-Encoding: chunked']) + chunked], AT_ONCE_MS);
      expectRefused400(withChunked, 'Content-Length together with Transfer-Encoding');
    });
    await expectStillServing('after-length-and-chunked');
  });

  it('a request smuggled behind the first length is never served, in the same packet or the next', async () => {
    const smuggledBody = eventBody(received('smuggled-1', 'BASE', 'S1', 7));
    const smuggled = postHead([`Content-Length: ${Buffer.byteLength(smuggledBody)}`]) + smuggledBody;
    // uWS frames by the first Content-Length (0), so the second request is the "body" a proxy
    // reading the last one would have sent along.
    const head = postHead(['Content-Length: 0', `Content-Length: ${Buffer.byteLength(smuggled)}`]);
    await hostile.changesNothing(['BASE'], async () => {
      // Same packet: uWS finds the next request while the refused one is unanswered and closes.
      const samePacket = await exchange(port(), [head + smuggled], AT_ONCE_MS);
      expect(samePacket.closedBy).toBe('server');
      expect(samePacket.text).not.toContain('200 OK');
      // Next packet, after the 400: the connection is closed by then, nothing more is read.
      const nextPacket = await exchange(port(), [head, smuggled], AT_ONCE_MS, true);
      expectRefused400(nextPacket, 'more than one Content-Length header');
      expect(nextPacket.text).not.toContain('200 OK');
    });
    await expectStillServing('after-smuggling');
  });
});

describe('refused by the uWS parser: closed at once without an answer', () => {
  const body = eventBody(received('closed-1', 'BASE', 'S1', 5));
  const length = Buffer.byteLength(body);

  it.each([
    ['no Host header', 'GET /healthz HTTP/1.1\r\nAccept: application/json\r\n\r\n'],
    ['Content-Length and chunked Transfer-Encoding', postHead([`Content-Length: ${length}`, 'Transfer-Encoding: chunked']) + body],
    ['a Content-Length that is not a number', postHead(['Content-Length: 12abc']) + body],
  ])('%s', async (_name, raw) => {
    await hostile.changesNothing(['BASE'], async () => {
      expectClosedWithoutAnswer(await exchange(port(), [raw], AT_ONCE_MS));
    });
    await expectStillServing(`after-${_name.replaceAll(' ', '-')}`);
  });
});

// uWS v20.30 takes these for an unfinished request and waits for the rest until its idle
// timeout. Run side by side, so the file waits one timeout, not four.
describe.concurrent('not parsable by uWS: no answer, closed by its idle timeout', () => {
  const headers48 = ['Host: gateway', ...Array.from({ length: 47 }, (_, i) => `X-Filler-${i}: ${i}`)];

  it.each([
    ['HTTP/1.0', 'GET /healthz HTTP/1.0\r\nHost: gateway\r\n\r\n'],
    ['bare LF line ends', 'GET /healthz HTTP/1.1\nHost: gateway\n\n'],
    ['an absolute-form URL', 'GET http://gateway/healthz HTTP/1.1\r\nHost: gateway\r\n\r\n'],
    ['49 headers', `GET /healthz HTTP/1.1\r\n${[...headers48, 'X-One-Too-Many: 1'].join('\r\n')}\r\n\r\n`],
  ])('%s', async (_name, raw) => {
    const pending = exchange(port(), [raw], IDLE_CLOSE_MS);
    // While that connection hangs, others are served.
    expect((await fetch(`${hostile.server.url}/healthz`)).status).toBe(200);
    expectClosedWithoutAnswer(await pending);
  });

  it('48 headers are still served', async () => {
    const answer = await exchange(port(), [`GET /healthz HTTP/1.1\r\n${[...headers48.slice(0, 47), 'Connection: close'].join('\r\n')}\r\n\r\n`], AT_ONCE_MS);
    expect(answer.status, answer.text).toBe(200);
  });
});
