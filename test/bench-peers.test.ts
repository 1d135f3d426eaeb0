// The fan-out bench's peer servers (bench/push/peers/) against omnistream: for the same events each
// serves the same `stock/<sku>` data and answers, and the load generator's Socket.IO subscriber
// (loadgen/socketio-subscriber.ts) works against the real Socket.IO peer. Waits are on messages,
// never on sleeps.

import type { AddressInfo } from 'node:net';
import { io as ioClient, type Socket } from 'socket.io-client';
import msgpackParser from 'socket.io-msgpack-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { startTarget } from '../bench/push/fanout-targets.ts';
import { socketIoPeer } from '../bench/push/peers/socketio-server.ts';
import { wsPeer, type Peer } from '../bench/push/peers/ws-server.ts';
import type { SubscriberTally } from '../loadgen/mod.ts';
import { openSocketIoSubscriber, scanSocketIoUpdate } from '../loadgen/socketio-subscriber.ts';
import { SubscriberPool } from '../loadgen/subscriber-pool.ts';
import { WsClient, post, startWsServer, type Msg } from './ws-harness.ts';

const T0 = 1_700_000_000_000;

const SETUP = [
  { id: 'l1', type: 'location.upserted', location: 'L1', kind: 'store', lat: 52.5, lon: 13.4 },
  { id: 'l2', type: 'location.upserted', location: 'L2', kind: 'warehouse', lat: 48.1, lon: 11.6 },
];

/** Every event type the load generator sends, with a rejection of each kind the peers answer. */
const EVENTS = [
  { id: 'e1', type: 'stock.received', sku: 'A', location: 'L1', qty: 10, ts: T0 + 5 },
  { id: 'e2', type: 'stock.received', sku: 'A', location: 'L2', qty: 5, ts: T0 + 1 },
  { id: 'e3', type: 'stock.sold', sku: 'A', location: 'L1', qty: 2, channel: 'pos', ts: T0 + 7 },
  { id: 'e4', type: 'stock.reserve', reservation: 'r1', sku: 'A', location: 'L1', qty: 3, channel: 'web' },
  { id: 'e5', type: 'stock.reserve', reservation: 'r2', sku: 'A', location: 'L2', qty: 99 },
  { id: 'e6', type: 'stock.received', sku: 'B', location: 'L9', qty: 1 },
  { id: 'e7', type: 'stock.safety', sku: 'A', location: 'L2', safety: 1 },
  { id: 'e8', type: 'stock.transfer', transfer: 't1', sku: 'A', from: 'L1', to: 'L2', qty: 2 },
  { id: 'e9', type: 'stock.commit', reservation: 'r1' },
  { id: 'e10', type: 'stock.reserve', reservation: 'r3', sku: 'A', qty: 2 },
  { id: 'e11', type: 'stock.release', reservation: 'r3' },
  { id: 'e12', type: 'stock.adjusted', sku: 'B', location: 'L1', onHand: 7, ts: T0 + 3 },
  { id: 'e13', type: 'stock.returned', sku: 'B', location: 'L1', qty: 1, channel: 'web', ts: T0 + 2 },
  { id: 'e14', type: 'stock.release', reservation: 'nope' },
];

/** An answer without what depends on the clock. */
const comparable = (r: Msg) => {
  const { expiresAt, error, ...rest } = r;
  return { ...rest, ...(error ? { code: error.code } : {}), hasExpiry: typeof expiresAt === 'number' };
};

const peers: Peer[] = [];
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const p of peers.splice(0)) p.close();
});

async function listen(peer: Peer): Promise<string> {
  peers.push(peer);
  await new Promise<void>((resolve) => peer.server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(peer.server.address() as AddressInfo).port}`;
}

interface Seen {
  answers: Msg[];
  /** Per topic: the first snapshot (before any event), the last update, a fresh snapshot after. */
  topics: Record<string, { before: Msg; last: Msg; after: Msg }>;
}

/** Over omnistream's wire protocol (omnistream itself and the ws peer). */
async function throughWs(url: string, wsUrl: string, token: string): Promise<Seen> {
  const early = await WsClient.open(wsUrl);
  const late = await WsClient.open(wsUrl, { format: 'msgpack', binary: true });
  cleanups.push(() => early.close(), () => late.close());
  const before = { A: await early.sub('stock/A'), B: await early.sub('stock/B') };
  await post(url, token, SETUP);
  const answers = await post(url, token, EVENTS);
  const topics: Seen['topics'] = {};
  for (const topic of ['stock/A', 'stock/B'] as const) {
    const after = await late.sub(topic);
    await early.untilSeq(topic, after.seq);
    topics[topic] = { before: before[topic.slice(-1) as 'A' | 'B'], last: early.updates(topic).at(-1)!, after };
  }
  return { answers, topics };
}

/** The Socket.IO peer through the official client, as a browser would use it. */
async function throughSocketIo(url: string): Promise<Seen> {
  const connect = () => {
    const s: Socket = ioClient(url, { parser: msgpackParser, transports: ['websocket'], forceNew: true });
    cleanups.push(() => s.close());
    return s;
  };
  const events: Array<[string, Msg]> = [];
  const early = connect();
  early.onAny((name: string, msg: Msg) => events.push([name, msg]));
  const waitFor = async (match: (name: string, m: Msg) => boolean) => {
    for (let i = 0; i < 2000; i++) {
      const found = events.find(([n, m]) => match(n, m));
      if (found) return found[1];
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no matching Socket.IO event; got ${JSON.stringify(events.slice(-3))}`);
  };
  const snapshotOf = (s: Socket, topic: string) => new Promise<Msg>((resolve) => s.once('snapshot', resolve).emit('sub', topic));
  const before = { A: await snapshotOf(early, 'stock/A'), B: await snapshotOf(early, 'stock/B') };
  await post(url, '', SETUP);
  const answers = await post(url, '', EVENTS);
  const late = connect();
  const topics: Seen['topics'] = {};
  for (const topic of ['stock/A', 'stock/B'] as const) {
    const after = await snapshotOf(late, topic);
    const last = await waitFor((n, m) => n === 'update' && m.topic === topic && m.seq === after.seq);
    topics[topic] = { before: before[topic.slice(-1) as 'A' | 'B'], last, after };
  }
  return { answers, topics };
}

describe('peer servers serve what omnistream serves', () => {
  it('the same answers, snapshots and stock/<sku> updates for the same events', async () => {
    const omni = await startWsServer();
    cleanups.push(() => omni.stop());
    const ingest = omni.token('ingest');
    const reference = await throughWs(omni.url, omni.wsUrl, ingest);
    const wsUrl = await listen(wsPeer());
    const sioUrl = await listen(socketIoPeer());
    const seen = { ws: await throughWs(wsUrl, `${wsUrl.replace('http', 'ws')}/v1/ws`, ingest), socketio: await throughSocketIo(sioUrl) };

    // The reference itself: what the peers must match.
    expect(reference.topics['stock/A'].after.data).toEqual({
      sku: 'A',
      onHand: 10,
      reserved: 0,
      available: 9,
      locations: { L1: { onHand: 3, reserved: 0, safety: 0, available: 3 }, L2: { onHand: 7, reserved: 0, safety: 1, available: 6 } },
    });
    for (const [name, s] of Object.entries(seen)) {
      expect(s.answers.map(comparable), name).toEqual(reference.answers.map(comparable));
      for (const topic of ['stock/A', 'stock/B']) {
        const got = s.topics[topic];
        const want = reference.topics[topic];
        expect(got.before, `${name} ${topic} first snapshot`).toMatchObject({ topic, seq: 0, data: null, epoch: expect.any(String) });
        expect(got.after.data, `${name} ${topic} snapshot`).toEqual(want.after.data);
        expect(got.last.data, `${name} ${topic} last update`).toEqual(want.last.data);
        expect(Object.keys(got.last).filter((k) => k !== 'op').sort(), `${name} ${topic} update fields`).toEqual(['data', 'seq', 'topic', 'ts']);
      }
      // One update per SKU per body, stamped with the oldest event time folded into it.
      expect(s.topics['stock/A'].last).toMatchObject({ seq: 1, ts: T0 + 1 });
      expect(s.topics['stock/B'].last).toMatchObject({ seq: 1, ts: T0 + 2 });
    }
  });
});

describe('the peers as the bench starts them', () => {
  it('each runs as its own process, prints its listening line and takes events', async () => {
    for (const name of ['ws', 'socketio'] as const) {
      const target = await startTarget(name, 'fsync');
      try {
        expect(target.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(target.durability).toMatch(/^none/);
        expect((await post(target.url, '', SETUP)).map((r) => r.ok)).toEqual([true, true]);
      } finally {
        await target.stop();
      }
    }
  });
});

/** A tally that records what a subscriber connection reports. */
function recordingTally() {
  const seen = { opened: 0, closed: [] as boolean[], snapshots: [] as boolean[], updates: [] as Array<[number, number, number]>, conflated: 0, seqErrors: 0, errors: [] as string[], subscribed: 0 };
  const tally: SubscriberTally = {
    opened: () => void seen.opened++,
    closed: (subscribed) => void seen.closed.push(subscribed),
    snapshot: (first) => void seen.snapshots.push(first),
    update: (client, ts, now) => void seen.updates.push([client, ts, now]),
    conflated: () => void seen.conflated++,
    seqError: () => void seen.seqErrors++,
    error: (detail) => void seen.errors.push(detail),
    subscribed: () => void seen.subscribed++,
  };
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 2000 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(ok(), JSON.stringify(seen)).toBe(true);
  };
  return { seen, tally, until };
}

describe('the load generator\'s Socket.IO subscriber', () => {
  it('gets snapshots, then updates with their push latency, and answers engine.io pings', async () => {
    const peer = socketIoPeer({ pingInterval: 20, pingTimeout: 2000 });
    const url = await listen(peer);
    let pongs = 0;
    peer.io.engine.on('connection', (s: { on(e: string, f: () => void): void }) => s.on('heartbeat', () => pongs++));
    const { seen, tally, until } = recordingTally();
    const sub = openSocketIoSubscriber({ url, format: 'msgpack', topics: ['stock/A', 'stock/B'], client: 3 }, tally);
    await until(() => seen.subscribed === 1);
    expect(seen.snapshots).toEqual([true, true]);
    await post(url, '', SETUP);
    await post(url, '', EVENTS);
    await until(() => seen.updates.length === 2);
    for (const [client, ts, now] of seen.updates) {
      expect(client).toBe(3);
      expect([T0 + 1, T0 + 2]).toContain(ts);
      expect(now).toBeGreaterThan(ts);
    }
    // Pongs keep the connection: the server would drop a silent client after pingTimeout.
    await until(() => pongs >= 3);
    sub.close();
    await until(() => seen.closed.length === 1);
    expect(seen.closed).toEqual([true]);
    expect({ errors: seen.errors, seqErrors: seen.seqErrors, conflated: seen.conflated, opened: seen.opened }).toEqual({ errors: [], seqErrors: 0, conflated: 0, opened: 1 });
  });

  it('reads topic, seq and ts of an update packet as socket.io-msgpack-parser encodes it, and nothing else', () => {
    // What the peer's room broadcast writes: socket.io-adapter encodes {type, data, nsp} once.
    const encode = (packet: unknown) => Buffer.from((new msgpackParser.Encoder().encode(packet) as unknown as Uint8Array[])[0]);
    const data = { sku: 'A', onHand: 3, locations: { L1: { onHand: 3 } } };
    for (const [topic, seq, ts] of [['stock/A', 7, T0 + 0.25], [`stock/${'x'.repeat(40)}`, 70_000, T0]] as const) {
      expect({ ...scanSocketIoUpdate(encode({ type: 2, data: ['update', { topic, seq, data, ts }], nsp: '/' })) }).toEqual({ topic, seq, ts });
    }
    expect(scanSocketIoUpdate(encode({ type: 2, data: ['snapshot', { topic: 'stock/A', seq: 1, epoch: 'e', data }], nsp: '/' }))).toBeUndefined();
    expect(scanSocketIoUpdate(encode({ type: 2, data: ['update', { topic: 'stock/A', seq: 1, data, ts: T0 }], nsp: '/admin' }))).toBeUndefined();
  });

  it('runs in the subscriber pool like the omnistream subscriber', async () => {
    const url = await listen(socketIoPeer());
    const pool = await SubscriberPool.start({ url, format: 'msgpack', topics: [['stock/A'], ['stock/B'], ['stock/A']], protocol: 'socketio' }, 0);
    expect(await pool.sample()).toMatchObject({ clients: 3, connected: 3, snapshots: 3, received: 0, errors: 0 });
    await post(url, '', SETUP);
    await post(url, '', EVENTS);
    for (let i = 0; i < 2000 && (await pool.sample()).received < 3; i++) await new Promise((r) => setTimeout(r, 5));
    const final = await pool.stop();
    expect(final).toMatchObject({ received: 3, errors: 0, perClient: [1, 1, 1] });
    expect(final.push.count).toBe(3);
  });
});
