// The client SDK against an in-memory WebSocket: the test plays the server, frame by frame, so
// reconnects, replays, gaps and lost answers happen exactly when the test says.

import { pack, unpack } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ClientClosedError,
  DisconnectedError,
  ServerError,
  TimeoutError,
  connect,
  type ConnectOptions,
  type OmniClient,
  type ServerFrame,
  type WebSocketLike,
} from '../client/mod.ts';

/** A fake socket; `server*` methods are the server's side of it. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  binaryType = 'blob';
  sent: Array<string | Uint8Array> = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string | Uint8Array): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(data);
  }
  close(code = 1005, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  /** Frames the client sent, decoded whatever their format. */
  get frames(): any[] {
    return this.sent.map((d) => (typeof d === 'string' ? JSON.parse(d) : unpack(d)));
  }
  serverAccept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverPush(frame: ServerFrame | Record<string, unknown>, binary = false): void {
    const data = binary ? Uint8Array.from(pack(frame)).buffer : JSON.stringify(frame);
    this.onmessage?.({ data });
  }
  serverDrop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onerror?.({ message: 'connection reset' });
    this.onclose?.({ code, reason });
  }
}

let sockets: FakeSocket[];
const clients: OmniClient[] = [];

function open(options: Partial<ConnectOptions> = {}): OmniClient {
  const client = connect({
    url: 'ws://omni.test:8080',
    token: 'T',
    WebSocket: class extends FakeSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    },
    backoff: { initialMs: 100, maxMs: 1000, jitter: 1 },
    random: () => 0.5,
    ...options,
  });
  client.on('error', () => {}); // the drops below report socket errors; not what these tests check
  clients.push(client);
  return client;
}
const last = () => sockets[sockets.length - 1];

function recorder() {
  const log: string[] = [];
  return {
    log,
    handlers: {
      onSnapshot: (data: unknown, seq: number) => void log.push(`snap ${seq} ${JSON.stringify(data)}`),
      onUpdate: (data: unknown, seq: number) => void log.push(`upd ${seq} ${JSON.stringify(data)}`),
      onGap: () => void log.push('gap'),
      onError: (e: Error) => void log.push(`err ${(e as ServerError).code}`),
    },
  };
}
const snap = (topic: string, seq: number, data: unknown, epoch = 'E1') => ({ op: 'snapshot', topic, seq, epoch, data }) as const;
const upd = (topic: string, seq: number, data: unknown) => ({ op: 'update', topic, seq, data, ts: 1000 + seq }) as const;

beforeEach(() => {
  sockets = [];
  vi.useFakeTimers();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  vi.useRealTimers();
});

describe('connecting and subscribing', () => {
  it('opens /v1/ws with token and format, subscribes, and delivers snapshot then updates once each', () => {
    const client = open({ format: 'json' });
    const url = new URL(last().url);
    expect([url.protocol, url.pathname, url.searchParams.get('token'), url.searchParams.get('format')]).toEqual(['ws:', '/v1/ws', 'T', 'json']);
    const r = recorder();
    client.subscribe('stock/A', r.handlers); // before open: sent on open
    last().serverAccept();
    expect(last().frames).toEqual([{ op: 'sub', topic: 'stock/A' }]);
    last().serverPush(upd('stock/A', 4, 'stale')); // before any snapshot: meaningless, dropped
    last().serverPush(snap('stock/A', 5, { onHand: 1 }));
    last().serverPush(upd('stock/A', 6, { onHand: 2 }));
    last().serverPush(upd('stock/A', 6, { onHand: 2 })); // duplicate
    last().serverPush(upd('stock/A', 5, 'old'));
    last().serverPush(upd('stock/A', 7, { onHand: 3 }));
    expect(r.log).toEqual(['snap 5 {"onHand":1}', 'upd 6 {"onHand":2}', 'upd 7 {"onHand":3}']);
    expect(client.position('stock/A')).toEqual({ seq: 7, epoch: 'E1' });
  });

  it('a second subscriber to a state topic starts from the latest state; the last unsubscribe sends unsub', () => {
    const client = open();
    last().serverAccept();
    const a = recorder();
    const b = recorder();
    const stopA = client.subscribe('stock/A', a.handlers);
    last().serverPush(snap('stock/A', 1, 'v1'));
    last().serverPush(upd('stock/A', 2, 'v2'));
    const stopB = client.subscribe('stock/A', b.handlers);
    last().serverPush(upd('stock/A', 3, 'v3'));
    expect(b.log).toEqual(['snap 2 "v2"', 'upd 3 "v3"']);
    stopA();
    expect(last().frames.filter((f) => f.op === 'unsub')).toEqual([]);
    stopB();
    stopB(); // idempotent
    expect(last().frames.filter((f) => f.op === 'unsub')).toEqual([{ op: 'unsub', topic: 'stock/A' }]);
    last().serverPush(upd('stock/A', 4, 'late')); // in flight when we left: ignored
    expect(a.log).toHaveLength(3);
  });

  it('a late joiner on an event topic gets a fresh snapshot; until then only the others get updates', () => {
    const client = open();
    last().serverAccept();
    const a = recorder();
    const b = recorder();
    client.subscribe('request/r1', a.handlers);
    last().serverPush(snap('request/r1', 1, 's1'));
    client.subscribe('request/r1', b.handlers);
    expect(last().frames.slice(-2)).toEqual([{ op: 'unsub', topic: 'request/r1' }, { op: 'sub', topic: 'request/r1' }]);
    last().serverPush(upd('request/r1', 2, 'u2')); // sent before the server saw the unsub
    last().serverPush(snap('request/r1', 2, 's2'));
    last().serverPush(upd('request/r1', 3, 'u3'));
    expect(a.log).toEqual(['snap 1 "s1"', 'upd 2 "u2"', 'snap 2 "s2"', 'upd 3 "u3"']);
    expect(b.log).toEqual(['snap 2 "s2"', 'upd 3 "u3"']);
  });

  it('a late joiner on an event topic whose snapshots carry no data starts at once, disturbing nobody', () => {
    const client = open();
    last().serverAccept();
    const a = recorder();
    const b = recorder();
    client.subscribe('alerts/stock', a.handlers);
    last().serverPush(snap('alerts/stock', 4, null));
    last().serverPush(upd('alerts/stock', 5, 'x5'));
    const sent = last().frames.length;
    client.subscribe('alerts/stock', b.handlers);
    expect(last().frames).toHaveLength(sent); // no unsub/sub round trip
    last().serverPush(upd('alerts/stock', 6, 'x6'));
    expect(a.log).toEqual(['snap 4 null', 'upd 5 "x5"', 'upd 6 "x6"']);
    expect(b.log).toEqual(['snap 5 null', 'upd 6 "x6"']);
  });

  it('a subscription whose frame is too large throws to the caller and never breaks a later open', () => {
    const client = open();
    last().serverAccept();
    expect(() => client.subscribe('stock/' + 'x'.repeat(70_000), recorder().handlers)).toThrow();
    client.subscribe('stock/A', recorder().handlers);
    last().serverDrop(1011);
    vi.advanceTimersByTime(60_000);
    expect(() => last().serverAccept()).not.toThrow();
    expect(last().frames).toEqual([{ op: 'sub', topic: 'stock/A' }]);
  });

  it('a sub refused before its snapshot is forgotten: not asked again on reconnect', () => {
    const client = open();
    last().serverAccept();
    const r = recorder();
    client.subscribe('alerts/stock', r.handlers);
    last().serverPush({ op: 'error', code: 'forbidden', message: 'no', ref: 'alerts/stock' });
    last().serverDrop(1011);
    vi.advanceTimersByTime(60_000);
    last().serverAccept();
    expect(last().frames).toEqual([]);
  });

  it('a forbidden sub reaches that subscription’s onError and the connection stays usable', () => {
    const client = open();
    last().serverAccept();
    const r = recorder();
    client.subscribe('agent/x', r.handlers);
    last().serverPush({ op: 'error', code: 'forbidden', message: 'no', topic: 'agent/x' });
    expect(r.log).toEqual(['err forbidden']);
    expect(client.connected).toBe(true);
  });

  it('a subscription the server ends (a completed request) reaches onEnd, not onError, and is not asked for again', () => {
    const client = open();
    last().serverAccept();
    const r = recorder();
    const errors: Error[] = [];
    client.on('error', (e) => void errors.push(e));
    const stop = client.subscribe('request/r1', { ...r.handlers, onEnd: (reason: string) => void r.log.push(`end ${reason}`) });
    last().serverPush(snap('request/r1', 2, null));
    last().serverPush(upd('request/r1', 3, { type: 'status', request: 'r1', status: 'completed' }));
    last().serverPush({ op: 'ended', topic: 'request/r1', reason: 'completed' });
    expect(r.log).toEqual(['snap 2 null', 'upd 3 {"type":"status","request":"r1","status":"completed"}', 'end completed']);
    expect(errors).toEqual([]);
    expect(client.position('request/r1')).toBeUndefined();
    last().sent.length = 0;
    stop(); // the server already dropped it: nothing to unsub
    last().serverDrop(1006);
    vi.advanceTimersByTime(60_000);
    last().serverAccept();
    expect(last().frames).toEqual([]);
  });
});

describe('reconnect and resume', () => {
  it('resubscribes every topic with since/epoch and drops the replayed updates it already delivered', () => {
    const client = open();
    last().serverAccept();
    const stock = recorder();
    const agent = recorder();
    client.subscribe('stock/A', stock.handlers);
    client.subscribe('agent/7', agent.handlers);
    last().serverPush(snap('stock/A', 10, 's10'));
    last().serverPush(snap('agent/7', 3, 'a3'));
    last().serverPush(upd('stock/A', 11, 's11'));
    last().serverPush(upd('agent/7', 4, 'a4'));

    const events: string[] = [];
    client.on('close', (c) => events.push(`close ${c.code} ${c.willReconnect}`));
    client.on('reconnecting', (r) => events.push(`reconnecting ${r.attempt} ${r.delayMs}`));
    client.on('open', () => events.push('open'));
    last().serverDrop();
    expect(events).toEqual(['close 1006 true', 'reconnecting 1 50']); // full jitter: 100 × 0.5
    vi.advanceTimersByTime(49);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    last().serverAccept();
    expect(last().frames).toEqual([
      { op: 'sub', topic: 'stock/A', since: 11, epoch: 'E1' },
      { op: 'sub', topic: 'agent/7', since: 4, epoch: 'E1' },
    ]);
    // The server replays from its own idea of where we were: overlap is dropped, the rest delivered.
    for (const s of [11, 12, 13]) last().serverPush(upd('stock/A', s, `s${s}`));
    for (const s of [4, 5]) last().serverPush(upd('agent/7', s, `a${s}`));
    expect(stock.log).toEqual(['snap 10 "s10"', 'upd 11 "s11"', 'upd 12 "s12"', 'upd 13 "s13"']);
    expect(agent.log).toEqual(['snap 3 "a3"', 'upd 4 "a4"', 'upd 5 "a5"']);
    expect(events.at(-1)).toBe('open');
  });

  it('takes a new snapshot when the server can no longer replay (or the epoch changed)', () => {
    const client = open();
    last().serverAccept();
    const r = recorder();
    client.subscribe('request/r1', r.handlers);
    last().serverPush(snap('request/r1', 2, 'old'));
    last().serverDrop(1001, 'going away');
    vi.advanceTimersByTime(1000);
    last().serverAccept();
    expect(last().frames).toEqual([{ op: 'sub', topic: 'request/r1', since: 2, epoch: 'E1' }]);
    last().serverPush(snap('request/r1', 1, 'fresh', 'E2'));
    last().serverPush(upd('request/r1', 2, 'after'));
    expect(r.log).toEqual(['snap 2 "old"', 'snap 1 "fresh"', 'upd 2 "after"']);
    expect(client.position('request/r1')).toEqual({ seq: 2, epoch: 'E2' });
  });

  it('after 4008 (too slow) on a healthy connection reconnects at once and resumes with since; a repeat backs off', () => {
    const client = open();
    last().serverAccept();
    client.subscribe('alerts/stock', recorder().handlers);
    last().serverPush(snap('alerts/stock', 40, null));
    const delays: number[] = [];
    client.on('reconnecting', (r) => delays.push(r.delayMs));
    vi.advanceTimersByTime(10_000); // the connection has been up long enough to count as healthy
    last().serverDrop(4008, 'too slow');
    expect(delays).toEqual([0]);
    vi.advanceTimersByTime(0);
    last().serverAccept();
    expect(last().frames).toEqual([{ op: 'sub', topic: 'alerts/stock', since: 40, epoch: 'E1' }]);
    // Too slow again right away: no tight reconnect loop.
    last().serverDrop(4008, 'too slow');
    expect(delays.at(-1)).toBeGreaterThan(0);
  });

  it('a state topic may jump (conflation); an event topic jump is a gap: onGap, resubscribe, replay in order', () => {
    const client = open();
    last().serverAccept();
    const stock = recorder();
    const agent = recorder();
    client.subscribe('stock/A', stock.handlers);
    client.subscribe('agent/7', agent.handlers);
    last().serverPush(snap('stock/A', 1, 1));
    last().serverPush(upd('stock/A', 5, 5));
    expect(stock.log).toEqual(['snap 1 1', 'upd 5 5']);

    last().serverPush(snap('agent/7', 1, 'a1'));
    last().serverPush(upd('agent/7', 3, 'a3')); // 2 is missing
    last().serverPush(upd('agent/7', 4, 'a4')); // still out of order: dropped, no second resubscribe
    expect(last().frames.slice(-2)).toEqual([
      { op: 'unsub', topic: 'agent/7' },
      { op: 'sub', topic: 'agent/7', since: 1, epoch: 'E1' },
    ]);
    for (const s of [2, 3, 4]) last().serverPush(upd('agent/7', s, `a${s}`));
    expect(agent.log).toEqual(['snap 1 "a1"', 'gap', 'upd 2 "a2"', 'upd 3 "a3"', 'upd 4 "a4"']);
  });

  it('backs off exponentially with full jitter, capped, and resets after a connection that stayed up', () => {
    let rnd = 1;
    const client = open({ backoff: { initialMs: 100, maxMs: 1000, jitter: true }, random: () => rnd });
    const delays: number[] = [];
    client.on('reconnecting', (r) => delays.push(r.delayMs));
    for (let i = 0; i < 6; i++) {
      last().serverDrop(); // refused before opening
      vi.advanceTimersByTime(delays.at(-1)!);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    rnd = 0;
    last().serverDrop();
    expect(delays.at(-1)).toBe(0);
    vi.advanceTimersByTime(0);
    // Accepted and dropped at once (a server that closes every connection): still backing off.
    last().serverAccept();
    rnd = 1;
    last().serverDrop();
    expect(delays.at(-1)).toBe(1000);
    vi.advanceTimersByTime(1000);
    last().serverAccept();
    vi.advanceTimersByTime(10_000);
    last().serverDrop();
    expect(delays.at(-1)).toBe(100);
  });

  it('heartbeat: a socket silent past the pong timeout is dropped and the client resumes at once', async () => {
    const client = open({ heartbeat: { intervalMs: 1000, timeoutMs: 300 } });
    last().serverAccept();
    client.subscribe('stock/A', recorder().handlers);
    last().serverPush(snap('stock/A', 3, null));
    vi.advanceTimersByTime(1000);
    const ping = last().frames.at(-1);
    expect(ping).toMatchObject({ op: 'ping', id: expect.any(String) });
    last().serverPush({ op: 'pong', id: ping.id }); // alive: nothing happens
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(1);
    const closes: number[] = [];
    client.on('close', (c) => closes.push(c.code));
    await vi.advanceTimersByTimeAsync(300); // the second ping goes unanswered
    expect(closes).toEqual([4000]);
    vi.advanceTimersByTime(1); // a 0 ms timer set during a fake-timer tick runs 1 ms later
    last().serverAccept();
    expect(last().frames).toEqual([{ op: 'sub', topic: 'stock/A', since: 3, epoch: 'E1' }]);
    client.reconnect(); // on demand too
    expect(closes).toEqual([4000, 4000]);
  });

  it('close() is final: no reconnect, and the close event says so', () => {
    const client = open();
    last().serverAccept();
    const events: unknown[] = [];
    client.on('close', (c) => events.push(c));
    client.close();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(events).toEqual([{ code: 1000, reason: 'client closed', willReconnect: false }]);
    expect(() => client.subscribe('stock/A', recorder().handlers)).toThrow(ClientClosedError);
  });
});

describe('calls and answers', () => {
  const event = (id: string) => ({ id, type: 'stock.received', sku: 'A', location: 'S1', qty: 1 });

  it('matches results by event id or op id, in any order; ok:false and error frames reject', async () => {
    const client = open();
    last().serverAccept();
    const a = client.send(event('e1'));
    const b = client.send(event('e2'));
    const c = client.op({ op: 'accept', request: 'r1' });
    const d = client.op({ op: 'message', request: 'r1', text: 'hi', id: 'mine' });
    const [, , accept, message] = last().frames;
    expect(accept).toMatchObject({ op: 'accept', request: 'r1', id: expect.any(String) });
    expect(message).toEqual({ op: 'message', request: 'r1', text: 'hi', id: 'mine' });
    last().serverPush({ op: 'result', ref: 'e2', ok: false, error: { code: 'insufficient_stock', message: 'no' } });
    last().serverPush({ op: 'result', ref: 'e1', ok: true, duplicate: true });
    last().serverPush({ op: 'result', ref: accept.id, ok: true });
    last().serverPush({ op: 'result', ref: 'mine', ok: false, error: { code: 'forbidden', message: 'not yours' } });
    await expect(a).resolves.toMatchObject({ ref: 'e1', ok: true, duplicate: true });
    await expect(b).rejects.toMatchObject({ name: 'ServerError', code: 'insufficient_stock' });
    await expect(c).resolves.toMatchObject({ ok: true });
    await expect(d).rejects.toMatchObject({ name: 'ServerError', code: 'forbidden' });
  });

  it('rejects calls on the wire when the socket closes; calls made while down go out on the next open', async () => {
    const client = open();
    last().serverAccept();
    const onWire = client.send(event('e1'));
    last().serverDrop(1001, 'going away');
    await expect(onWire).rejects.toBeInstanceOf(DisconnectedError);
    await expect(onWire).rejects.toMatchObject({ code: 'disconnected', closeCode: 1001 });
    const queued = client.send(event('e2'));
    vi.advanceTimersByTime(1000);
    last().serverAccept();
    expect(last().frames).toEqual([{ op: 'event', event: event('e2') }]);
    last().serverPush({ op: 'result', ref: 'e2', ok: true });
    await expect(queued).resolves.toMatchObject({ ok: true });
  });

  it('times out, shares one wire copy for a repeated id, and rejects everything on close()', async () => {
    const client = open({ timeoutMs: 500 });
    last().serverAccept();
    const first = client.send(event('e1'));
    const again = client.send(event('e1'));
    expect(last().frames).toHaveLength(1);
    vi.advanceTimersByTime(500);
    await expect(first).rejects.toBeInstanceOf(TimeoutError);
    await expect(again).rejects.toBeInstanceOf(TimeoutError);
    const pending = client.ping();
    client.close();
    await expect(pending).rejects.toBeInstanceOf(ClientClosedError);
    await expect(client.send(event('e3'))).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('ping resolves with the round trip on the matching pong', async () => {
    const client = open();
    last().serverAccept();
    const rtt = client.ping();
    vi.advanceTimersByTime(25);
    last().serverPush({ op: 'pong', id: last().frames[0].id });
    expect(await rtt).toBeGreaterThanOrEqual(0);
  });

  it('refuses locally a frame over the server limit instead of getting the connection closed (1009)', async () => {
    const client = open();
    last().serverAccept();
    await expect(client.send({ ...event('big'), note: 'x'.repeat(70_000) })).rejects.toMatchObject({ code: 'too_large' });
    expect(last().frames).toEqual([]);
    expect(client.connected).toBe(true);
  });
});

describe('framing', () => {
  it('msgpack: binary frames both ways; json: text frames, yet binary answers still decode', async () => {
    const mp = open({ format: 'msgpack' });
    expect(new URL(last().url).searchParams.get('format')).toBe('msgpack');
    last().serverAccept();
    const r = recorder();
    mp.subscribe('stock/B', r.handlers);
    expect(last().binaryType).toBe('arraybuffer');
    expect(last().sent[0]).toBeInstanceOf(Uint8Array);
    expect(unpack(last().sent[0] as Uint8Array)).toEqual({ op: 'sub', topic: 'stock/B' });
    last().serverPush(snap('stock/B', 1, { onHand: 7 }), true);
    expect(r.log).toEqual(['snap 1 {"onHand":7}']);

    const js = open({ format: 'json' });
    last().serverAccept();
    const p = js.send({ id: 'j1', type: 'x' });
    expect(typeof last().sent[0]).toBe('string');
    last().serverPush({ op: 'result', ref: 'j1', ok: true }, true);
    await expect(p).resolves.toMatchObject({ ok: true });
  });

  it('an undecodable frame or a throwing handler is reported, and the stream goes on', () => {
    const client = open();
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    last().serverAccept();
    const seen: number[] = [];
    client.subscribe('stock/C', {
      onSnapshot: () => {},
      onUpdate: (_d, seq) => {
        seen.push(seq);
        if (seq === 2) throw new Error('app bug');
      },
    });
    last().serverPush(snap('stock/C', 1, null));
    last().onmessage?.({ data: '{not json' });
    last().serverPush(upd('stock/C', 2, null));
    last().serverPush(upd('stock/C', 3, null));
    expect(seen).toEqual([2, 3]);
    expect(errors).toEqual([expect.stringContaining('undecodable'), 'app bug']);
  });
});
