// The load generator's WebSocket client: the socket (upgrade, ping, close, hostile bytes) against
// a scripted TCP server, the update scan, and the omnistream subscriber on it against a real
// gateway, in JSON and msgpack.

import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { openOmniSubscriber } from '../loadgen/omni-subscriber.ts';
import type { SubscriberTally } from '../loadgen/mod.ts';
import { scanJsonUpdate, scanMsgpackUpdate } from '../client/mod.ts';
import { openWire, type WireSocket } from '../loadgen/ws-wire.ts';
import { OutMessage, updateMessage } from '../gateway/ws/out-message.ts';
import { readOptions, type LoadgenOptions } from '../loadgen/options.ts';
import { runLoadgen } from '../loadgen/run.ts';
import { TEST_SECRET } from './gateway-harness.ts';
import { loc, post, recv, startWsServer, type WsServer } from './ws-harness.ts';

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** A server frame (unmasked); `lengthBytes` forces a 16- or 64-bit length field. */
function frame(opcode: number, payload: Buffer | string, o: { fin?: boolean; lengthBytes?: 0 | 2 | 8; rsv?: number; mask?: boolean } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const lengthBytes = o.lengthBytes ?? (data.length < 126 ? 0 : data.length < 0x10000 ? 2 : 8);
  const head = Buffer.alloc(2 + lengthBytes + (o.mask ? 4 : 0));
  head[0] = ((o.fin ?? true) ? 0x80 : 0) | (o.rsv ?? 0) | opcode;
  head[1] = (o.mask ? 0x80 : 0) | (lengthBytes === 0 ? data.length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(data.length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(data.length), 2);
  return Buffer.concat([head, data]);
}

type Seen = [kind: string, ...details: unknown[]];

// A scripted server: accepts the upgrade (or answers `answer`), then hands the socket and the
// client's frames (unmasked) to the test.
interface ClientFrame {
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

const servers: Server[] = [];
const serverSockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of serverSockets) socket.destroy();
  serverSockets.clear();
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

function scriptedServer(script: (socket: Socket, frames: AsyncIterator<ClientFrame>) => void, answer?: (key: string) => string): Promise<string> {
  const server = createServer((socket) => {
    serverSockets.add(socket);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const key = /sec-websocket-key: (\S+)/i.exec(head.toString('latin1'))![1];
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(answer?.(key) ?? `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      script(socket, clientFrames(socket, head.subarray(end + 4)));
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`ws://127.0.0.1:${(server.address() as { port: number }).port}/v1/ws?x=1`)));
}

async function* clientFrames(socket: Socket, first: Buffer): AsyncGenerator<ClientFrame> {
  let buf = first;
  const chunks = socket[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    while (buf.length >= 2) {
      const len7 = buf[1] & 0x7f;
      const at = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      const length = len7 === 126 ? buf.readUInt16BE(2) : len7 === 127 ? Number(buf.readBigUInt64BE(2)) : len7;
      if (buf.length < at + 4 + length) break;
      const mask = buf.subarray(at, at + 4);
      const payload = Buffer.from(buf.subarray(at + 4, at + 4 + length).map((b, i) => b ^ mask[i & 3]));
      yield { opcode: buf[0] & 0x0f, masked: (buf[1] & 0x80) !== 0, payload };
      buf = buf.subarray(at + 4 + length);
    }
    const next = await chunks.next();
    if (next.done) return;
    buf = Buffer.concat([buf, next.value]);
  }
}

/** Opens a wire socket, runs `onOpen` on it, and records what its handlers see until onClose. */
function record(url: string, onOpen: (socket: WireSocket) => void = () => {}): Promise<Seen[]> {
  const events: Seen[] = [];
  return new Promise<Seen[]>((resolve) => {
    const socket = openWire(url, {
      onOpen: () => {
        events.push(['open']);
        onOpen(socket);
      },
      onMessage: (data, binary) => events.push(['message', binary, data.toString()]),
      onError: (error) => events.push(['error', error.message]),
      onClose: (code, reason) => {
        events.push(['close', code, reason]);
        resolve(events);
      },
    });
  });
}

/** The client frames a scripted server read, collected until the client's close frame. */
async function untilClose(frames: AsyncIterator<ClientFrame>): Promise<ClientFrame[]> {
  const got: ClientFrame[] = [];
  for (let f = await frames.next(); !f.done; f = await frames.next()) {
    got.push(f.value);
    if (f.value.opcode === OP_CLOSE) break;
  }
  return got;
}

const closeBody = (code: number, reason = '') => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

describe('wire socket', () => {
  it('upgrades, reads frames sent with the 101, sends masked text and binary, answers a ping with its payload', async () => {
    let got!: Promise<ClientFrame[]>;
    const url = await scriptedServer((socket, frames) => {
      socket.write(Buffer.concat([frame(OP_TEXT, 'hello'), frame(OP_PING, 'are you there'), frame(OP_CLOSE, closeBody(1001, 'bye'))]));
      got = untilClose(frames);
    });
    const events = await record(url, (socket) => {
      socket.sendText('hi ✓');
      socket.sendBinary(new Uint8Array(300).fill(7));
    });
    expect(events).toEqual([['open'], ['message', false, 'hello'], ['close', 1001, 'bye']]);
    expect(await got).toEqual([
      { opcode: OP_TEXT, masked: true, payload: Buffer.from('hi ✓') },
      { opcode: OP_BINARY, masked: true, payload: Buffer.alloc(300, 7) },
      { opcode: OP_PONG, masked: true, payload: Buffer.from('are you there') },
      // The close echoed with the server's code and reason (ws echoes both).
      { opcode: OP_CLOSE, masked: true, payload: closeBody(1001, 'bye') },
    ]);
  });

  it('keeps fragments and split payloads intact across reads (the read buffer is reused)', async () => {
    const long = Array.from({ length: 300 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const longFrame = frame(OP_TEXT, long);
    const url = await scriptedServer(async (socket, frames) => {
      socket.write(Buffer.concat([frame(OP_TEXT, 'hel', { fin: false }), frame(OP_PING, 'a')]));
      await frames.next(); // the pong: the client has read the first fragment
      socket.write(Buffer.concat([frame(OP_CONTINUATION, 'lo'), longFrame.subarray(0, 250)]));
      await frames.next(); // the client's 'got hello': it has read the payload's first part
      socket.write(Buffer.concat([longFrame.subarray(250), frame(OP_TEXT, 'x'.repeat(400)), frame(OP_CLOSE, closeBody(1000))]));
    });
    const messages: string[] = [];
    await new Promise<void>((resolve) => {
      const socket = openWire(url, {
        onOpen() {},
        onMessage(data) {
          messages.push(data.toString());
          if (messages.length === 1) socket.sendText('got hello');
        },
        onError() {},
        onClose: () => resolve(),
      });
    });
    expect(messages).toEqual(['hello', long, 'x'.repeat(400)]);
  });

  it('close(code) sends a close frame and reports the code the server echoes', async () => {
    let got!: Promise<ClientFrame[]>;
    const url = await scriptedServer((socket, frames) => {
      got = untilClose(frames).then((f) => {
        socket.end(frame(OP_CLOSE, f.at(-1)!.payload));
        return f;
      });
    });
    const events = await record(url, (socket) => {
      socket.close(4000);
      expect(socket.open).toBe(false);
      socket.sendText('dropped after close');
    });
    expect(events).toEqual([['open'], ['close', 4000, '']]);
    expect((await got).map((f) => f.opcode)).toEqual([OP_CLOSE]);
  });

  it.each([
    ['a refusal', () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', /403 Forbidden/],
    ['a wrong Sec-WebSocket-Accept', () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n', /Sec-WebSocket-Accept/],
    ['no Upgrade header', () => 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n', /Upgrade: websocket/],
    ['not HTTP at all', () => 'SSH-2.0-OpenSSH\r\n\r\n', /not an HTTP answer/],
  ])('reports %s as an error, then a 1006 close, never opening', async (_what, answer, message) => {
    const url = await scriptedServer((socket) => socket.end(), answer);
    const events = await record(url);
    expect(events).toEqual([['error', expect.stringMatching(message)], ['close', 1006, '']]);
  });

  it('reports hostile frames as an error, tells the server 1002 and closes', async () => {
    let got!: Promise<ClientFrame[]>;
    const url = await scriptedServer((socket, frames) => {
      socket.write(Buffer.concat([frame(OP_TEXT, 'fine'), Buffer.from('GARBAGE!'), frame(OP_TEXT, 'never read')]));
      got = untilClose(frames);
    });
    const events = await record(url);
    expect(events).toEqual([['open'], ['message', false, 'fine'], ['error', expect.stringMatching(/protocol error/)], ['close', 1002, '']]);
    expect(await got).toEqual([{ opcode: OP_CLOSE, masked: true, payload: closeBody(1002) }]);
  });

  it('reports a refused connection and a server that hangs up mid-upgrade', async () => {
    const refused = await record('ws://127.0.0.1:1/v1/ws');
    expect(refused).toEqual([['error', expect.stringMatching(/ECONNREFUSED/)], ['close', 1006, '']]);
    const hangUp = await record(await scriptedServer((socket) => socket.end(), () => 'HTTP/1.1 101 Swi'));
    expect(hangUp).toEqual([['error', expect.stringMatching(/closed before the WebSocket upgrade/)], ['close', 1006, '']]);
  });

  it('ends every connection fed arbitrary bytes after the upgrade with one close, at most one error before it, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), async (chunks) => {
        const url = await scriptedServer((socket) => {
          for (const chunk of chunks) socket.write(chunk);
          socket.end();
        });
        const events = await record(url);
        const kinds = events.map((e) => e[0]);
        expect(kinds.filter((k) => k === 'close')).toEqual(['close']);
        expect(kinds.at(-1)).toBe('close');
        expect(kinds.filter((k) => k === 'error').length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 40 },
    );
  });
});

describe('update scan', () => {
  const scans = { json: (m: OutMessage) => scanJsonUpdate(Buffer.from(m.encode('json'))), msgpack: (m: OutMessage) => scanMsgpackUpdate(m.encode('msgpack') as Buffer) };
  const data = { sku: 'A', onHand: 3, locations: { S1: { onHand: 3, ts: 9, seq: 1 } } };

  it.each(['json', 'msgpack'] as const)('reads topic, seq and ts from the gateway\'s own %s encoding of an update', (format) => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((t) => !/["\\]/.test(t)),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.oneof(fc.double({ min: 1e12, max: 3e12, noNaN: true }), fc.integer({ min: 1e12, max: 3e12 })),
        (sku, seq, ts) => {
          expect({ ...scans[format](updateMessage(`stock/${sku}`, seq, data, ts)) }).toEqual({ topic: `stock/${sku}`, seq, ts });
        },
      ),
    );
  });

  it.each(['json', 'msgpack'] as const)('leaves anything else in %s to the full decoder', (format) => {
    const others = [
      new OutMessage({ op: 'snapshot', topic: 'stock/A', seq: 1, epoch: 'e', data }),
      new OutMessage({ op: 'update', topic: 'stock/A', data, seq: 1, ts: 5e12 }),
      new OutMessage({ op: 'update', topic: 'stock/A', seq: 1, ts: 5e12, data }),
      new OutMessage({ op: 'update', topic: 'stock/A', seq: -1, data, ts: 5e12 }),
      new OutMessage({ op: 'update', topic: 'stock/A', seq: 1, data, ts: 'soon' }),
      new OutMessage({ op: 'error', code: 'bad_frame', message: 'update', ref: 'stock/A' }),
    ];
    if (format === 'json') others.push(updateMessage('stock/"quoted"', 1, data, 5e12));
    for (const m of others) expect(scans[format](m)).toBeUndefined();
    const whole = Buffer.from(updateMessage('stock/A', 1, data, 5e12).encode(format));
    for (let cut = 1; cut < whole.length; cut++) {
      const scanned = format === 'json' ? scanJsonUpdate(whole.subarray(0, cut)) : scanMsgpackUpdate(whole.subarray(0, cut));
      expect(scanned?.ts ?? 5e12).toBe(5e12);
    }
    expect(scanMsgpackUpdate(pack({ op: 'update', topic: 'stock/A', seq: 1, data, ts: 5e12 }))).toBeDefined();
  });

  it('never throws on an update header followed by arbitrary bytes', () => {
    const heads = [Buffer.from('{"op":"update","topic":"stock/A","seq":'), (updateMessage('stock/A', 2 ** 40, data, 5e12).encode('msgpack') as Buffer).subarray(0, 32)];
    fc.assert(
      fc.property(fc.constantFrom(0, 1), fc.uint8Array({ maxLength: 40 }), (which, tail) => {
        const buf = Buffer.concat([heads[which].subarray(0, heads[which].length - (tail.length % 8)), tail]);
        scanJsonUpdate(buf);
        scanMsgpackUpdate(buf);
      }),
      { numRuns: 1000 },
    );
  });
});

/** A tally that logs what it is told, and resolves `until(predicate)` as soon as the log satisfies it. */
function loggingTally(): { log: Seen[]; tally: SubscriberTally; until(done: (log: Seen[]) => boolean): Promise<Seen[]> } {
  const log: Seen[] = [];
  const waiters: Array<() => void> = [];
  const add = (entry: Seen) => {
    log.push(entry);
    for (const wake of waiters.splice(0)) wake();
  };
  const tally: SubscriberTally = {
    opened: () => add(['opened']),
    closed: (subscribed) => add(['closed', subscribed]),
    snapshot: (first) => add(['snapshot', first]),
    update: (client, tsMs, nowMs) => add(['update', client, nowMs >= tsMs]),
    conflated: () => add(['conflated']),
    seqError: () => add(['seqError']),
    error: (detail) => add(['error', detail]),
    subscribed: () => add(['subscribed']),
  };
  const until = (done: (l: Seen[]) => boolean) =>
    new Promise<Seen[]>((resolve) => {
      const check = () => (done(log) ? resolve(log) : waiters.push(check));
      check();
    });
  return { log, tally, until };
}

const count = (log: Seen[], kind: string) => log.filter((e) => e[0] === kind).length;

describe('omnistream subscriber', () => {
  it('counts a seq jump on a state topic as conflation, and repeats, reversals and event-topic gaps as seq errors', async () => {
    const msg = (m: object) => frame(OP_TEXT, JSON.stringify(m));
    const update = (topic: string, seq: number) => msg({ op: 'update', topic, seq, data: {}, ts: Date.now() - 1 });
    let subs!: Promise<ClientFrame[]>;
    const url = await scriptedServer(async (socket, frames) => {
      subs = Promise.all([frames.next(), frames.next()]).then((f) => f.map((r) => r.value as ClientFrame));
      await subs;
      socket.write(Buffer.concat([
        msg({ op: 'snapshot', topic: 'stock/A', seq: 5, epoch: 'e', data: null }),
        ...[6, 8, 7, 8, 9].map((seq) => update('stock/A', seq)),
        msg({ op: 'snapshot', topic: 'alerts/stock', seq: 0, epoch: 'e', data: null }),
        update('alerts/stock', 2),
        msg({ op: 'error', code: 'rate_limited', message: 'slow down' }),
      ]));
    });
    const { tally, until } = loggingTally();
    const subscriber = openOmniSubscriber({ url, format: 'json', topics: ['stock/A', 'alerts/stock'], client: 3 }, tally);
    const log = await until((l) => count(l, 'error') === 1);
    subscriber.close();
    expect((await subs).map((f) => JSON.parse(f.payload.toString()))).toEqual([
      { op: 'sub', topic: 'stock/A' },
      { op: 'sub', topic: 'alerts/stock' },
    ]);
    const up: Seen = ['update', 3, true];
    expect(log).toEqual([
      ['opened'], ['snapshot', true],
      // 6, 8 (a jump: conflation), 7 and 8 again (errors, not deliveries), 9.
      up, up, ['conflated'], ['seqError'], ['seqError'], up,
      // An event topic's gap is delivered, and reported.
      ['snapshot', true], ['subscribed'], up, ['seqError'],
      ['error', 'error rate_limited: slow down'],
    ]);
  });

  let server: WsServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it.each(['json', 'msgpack'] as const)('against a real gateway (%s): a snapshot, then every update in seq order with its latency', async (format) => {
    server = await startWsServer();
    const ingest = server.token('ingest');
    await post(server.url, ingest, [loc('l1', 'S1')]);
    const { tally, until } = loggingTally();
    const subscriber = openOmniSubscriber({ url: server.url, token: server.token('customer'), format, topics: [`stock/W-${format}`], client: 0 }, tally);
    await until((l) => count(l, 'subscribed') === 1);
    for (let i = 1; i <= 5; i++) await post(server.url, ingest, [recv(`r${i}`, `W-${format}`, 'S1', i)]);
    const log = await until((l) => count(l, 'update') === 5 || count(l, 'error') > 0);
    subscriber.close();
    expect(log).toEqual([['opened'], ['snapshot', true], ['subscribed'], ...Array.from({ length: 5 }, (): Seen => ['update', 0, true])]);
  });

  it('loadgen --topics-per-subscriber 1 puts each subscriber on one topic, in the worker threads asked for', async () => {
    server = await startWsServer();
    const argv = ['--url', server.url, '--secret', TEST_SECRET, '--subscribers', '6', '--topics-per-subscriber', '1', '--subscriber-workers', '2', '--skus', '3', '--rate', '300', '--duration', '1'];
    const options = { ...(readOptions(argv) as LoadgenOptions), progress: false };
    expect(options).toMatchObject({ topicsPerSubscriber: 1, subscriberWorkers: 2 });
    const { report, perClient } = await runLoadgen(options, () => undefined);
    expect(report.snapshots).toBe(6);
    expect(report.subscriberWorkers).toBe(2);
    expect(perClient).toHaveLength(6);
    expect(report.received).toBeGreaterThan(0);
    expect(report.latencyMs.push.count).toBe(report.received);
    expect({ seqErrors: report.seqErrors, subscriberErrors: report.subscriberErrors }).toEqual({ seqErrors: 0, subscriberErrors: 0 });
  });
});
