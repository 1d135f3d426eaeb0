// What the HTTP and WebSocket decoders accept: only what an event or an op can be. Invalid
// UTF-8, nesting past the bound, msgpack extensions (BigInts, records, structured clones),
// binaries, integers past 2^53 and lengths larger than the body are refused whole —
// `400 bad_request` over HTTP, a `bad_frame` error over WebSocket — with nothing applied.

import { Packr, pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, getJson, location, received, startTestServer, type TestServer } from './gateway-harness.ts';
import { WsClient } from './ws-harness.ts';

let server: TestServer;
let auth: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  auth = bearer(server.token('ingest'));
  const seeded = await postRaw(JSON.stringify([location('l', 'S1'), received('seed', 'A', 'S1', 1)]));
  expect(seeded.status).toBe(200);
});
afterAll(() => server.stop());

async function postRaw(body: Buffer | string, contentType = 'application/json') {
  const response = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { 'content-type': contentType, ...auth }, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const isMsgpack = response.headers.get('content-type') === 'application/msgpack';
  return { status: response.status, body: (isMsgpack ? unpack(bytes) : JSON.parse(bytes.toString('utf8'))) as any };
}

const postMsgpack = (bytes: Buffer) => postRaw(bytes, 'application/msgpack');
const onHand = async (sku: string) => (await getJson(server.url, `/v1/stock/${sku}`)).body.onHand as number | undefined;

/** A msgpack map built by hand: keys and values already encoded. */
const map = (entries: Array<[string, Buffer]>) => Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries.flatMap(([k, v]) => [pack(k), v])]);
const receivedMap = (id: Buffer, sku: Buffer = pack('A')) =>
  map([['id', id], ['type', pack('stock.received')], ['sku', sku], ['location', pack('S1')], ['qty', pack(1)]]);

describe('HTTP bodies', () => {
  it('invalid UTF-8 is refused, never replaced: two ids that differ in one bad byte are not one', async () => {
    for (const bad of [0xff, 0xfe]) {
      const json = Buffer.concat([Buffer.from('[{"id":"u'), Buffer.from([bad]), Buffer.from('","type":"stock.received","sku":"A","location":"S1","qty":1}]')]);
      const answer = await postRaw(json);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('bad_request');
      // msgpack: a str of 2 bytes, the second invalid
      const mp = await postMsgpack(receivedMap(Buffer.from([0xa2, 0x75, bad])));
      expect(mp.status).toBe(400);
    }
    // Overlong encodings and UTF-16 surrogates written as UTF-8 are not UTF-8 either.
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      expect((await postMsgpack(receivedMap(pack('fine'), Buffer.from([0xa0 | bytes.length, ...bytes])))).status).toBe(400);
    }
    // Long strings go through the other decoding path.
    const long = Buffer.concat([Buffer.from([0xd9, 40]), Buffer.alloc(39, 0x61), Buffer.from([0xff])]);
    expect((await postMsgpack(receivedMap(long))).status).toBe(400);
    expect(await onHand('A')).toBe(1);
  });

  it('valid UTF-8 in both formats is taken as sent', async () => {
    const sku = 'Ünïcødé-😀';
    expect((await postRaw(JSON.stringify([received('utf8-json', sku, 'S1', 2)]))).body.results[0].ok).toBe(true);
    expect((await postMsgpack(pack([received('utf8-mp', sku, 'S1', 3)]))).body.results[0].ok).toBe(true);
    const long = `${'ü'.repeat(40)}-😀`;
    expect((await postMsgpack(pack([received('utf8-long', long, 'S1', 1)]))).body.results[0].ok).toBe(true);
    expect(await onHand(encodeURIComponent(sku))).toBe(5);
  });

  it('nesting past 10 levels is refused before it is parsed; within the bound an unknown deep field is named', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const order = (extra: string) =>
      `[{"id":"deep","type":"order.placed","order":"o","lines":[{"sku":"A","qty":1}],"ship":{"lat":1,"lon":1,"x":${extra}}}]`;
    const hostile = await postRaw(order(deep(2000)));
    expect(hostile.status).toBe(400);
    expect(hostile.body.error.message).toMatch(/deeper than 10/);
    // Brackets inside strings do not count.
    const inString = await postRaw(`[{"id":"s","type":"stock.received","sku":"${'['.repeat(50)}","location":"S1","qty":1}]`);
    expect(inString.status).toBe(200);
    // body array 1, event 2, ship 3, x 4..10
    const within = await postRaw(order(deep(7)));
    expect(within.status).toBe(200);
    expect(within.body.results[0]).toMatchObject({ ok: false, error: { code: 'invalid_event', field: 'ship.x' } });
    // msgpack: 2,000 nested one-item arrays (0x91) around a 1
    const mpDeep = Buffer.concat([Buffer.alloc(2000, 0x91), Buffer.from([0x01])]);
    expect((await postMsgpack(mpDeep)).status).toBe(400);
  });

  it('msgpack beyond JSON\'s types is refused: extensions, structured clones, records, BigInts, binaries', async () => {
    const cyclic: Record<string, unknown> = { ...received('cycle', 'A', 'S1', 1) };
    cyclic.meta = cyclic;
    const bodies: Array<[string, Buffer]> = [
      ['a self-referencing map (structured clone)', new Packr({ structuredClone: true }).pack([cyclic])],
      ['records', new Packr({ useRecords: true }).pack([received('rec', 'A', 'S1', 1), received('rec2', 'A', 'S1', 1)])],
      ['a 64-bit BigInt', new Packr({ useBigInt64: true } as ConstructorParameters<typeof Packr>[0]).pack([{ ...received('big', 'A', 'S1', 1), meta: { n: 2n ** 62n } }])],
      ['an integer past 64 bits (extension)', Buffer.concat([Buffer.from([0x91]), map([['id', pack('x')], ['n', Buffer.from([0xc7, 9, 0x42, 1, 0, 0, 0, 0, 0, 0, 0, 0])]])])],
      ['a binary', pack([{ ...received('bin', 'A', 'S1', 1), meta: Buffer.from('hi') }])],
      ['a date', pack([{ ...received('date', 'A', 'S1', 1), meta: new Date() }])],
      ['the reserved byte 0xc1', Buffer.from([0x91, 0xc1])],
      ['a map with a number key', Buffer.from([0x91, 0x81, 0x01, 0x02])],
      ['an array claiming 4 billion items', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])],
      ['a string claiming 4 GiB', Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61])],
      ['a map claiming 65535 entries', Buffer.from([0xde, 0xff, 0xff, 0x01])],
      ['bytes after the value', Buffer.concat([pack([received('trail', 'A', 'S1', 1)]), Buffer.from([0x00])])],
      ['a truncated body', pack([received('cut', 'A', 'S1', 1)]).subarray(0, 20)],
    ];
    for (const [what, body] of bodies) {
      const answer = await postMsgpack(body);
      expect(answer.status, what).toBe(400);
      expect(answer.body.error.code, what).toBe('bad_request');
    }
    expect(await onHand('A')).toBe(1);
  });
});

describe('WebSocket frames', () => {
  it('a frame that is not an op is a bad_frame error; the connection stays and serves', async () => {
    const client = await WsClient.open(server.gateway.url.replace('http', 'ws') + '/v1/ws', { token: server.token('admin') });
    try {
      const frames: Array<[string, Buffer | string, boolean]> = [
        ['invalid UTF-8 in msgpack', Buffer.concat([Buffer.from([0x82]), pack('op'), pack('ping'), pack('id'), Buffer.from([0xa1, 0xff])]), true],
        ['an extension', Buffer.concat([Buffer.from([0x82]), pack('op'), pack('ping'), pack('id'), Buffer.from([0xd4, 0x01, 0x00])]), true],
        ['nesting past the bound', `{"op":"ping","x":${'['.repeat(100)}${']'.repeat(100)}}`, false],
      ];
      let from = 0;
      for (const [what, data, binary] of frames) {
        client.sendRaw(typeof data === 'string' ? data : data, binary);
        const { msg, index } = await client.next((m) => m.op === 'error', from);
        expect(msg.code, what).toBe('bad_frame');
        from = index + 1;
      }
      client.send({ op: 'ping', id: 'still-here' });
      expect((await client.next((m) => m.op === 'pong', from)).msg.id).toBe('still-here');
    } finally {
      await client.close();
    }
  });
});
