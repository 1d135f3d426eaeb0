// WebSocket test client (the `ws` package) and a server that can be restarted on the same data
// dir. Waits are on messages and events, never on sleeps.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { afterEach, expect } from 'vitest';
import WebSocket from 'ws';
import { openTestEngine, type TestEngine } from './engine-under-test.ts';
import type { DomainOptions } from '../engine/mod.ts';
import { signToken, startGateway, type Gateway, type GatewayOptions, type Role } from '../gateway/mod.ts';
import { TEST_SECRET } from './gateway-harness.ts';

export type Msg = Record<string, any>;

export interface WsServer {
  engine: TestEngine;
  gateway: Gateway;
  url: string;
  wsUrl: string;
  dataDir: string;
  token(role: Role, sub?: string, loc?: string): string;
  /** Closes gateway then engine; keeps the data dir when `keep` is set. */
  stop(keep?: boolean): Promise<void>;
}

export async function startWsServer(options: Partial<Omit<GatewayOptions, 'engine' | 'secret'>> = {}, dataDir?: string, domains?: DomainOptions): Promise<WsServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'omni-ws-test-'));
  const engine = await openTestEngine({ path: dir, durability: 'none', domains });
  const gateway = await startGateway({ engine, secret: TEST_SECRET, host: '127.0.0.1', port: 0, ...options });
  let stopped: Promise<void> | undefined;
  return {
    engine,
    gateway,
    url: gateway.url,
    wsUrl: `ws://127.0.0.1:${gateway.port}/v1/ws`,
    dataDir: dir,
    token: (role, sub = `${role}-1`, loc) => signToken(loc === undefined ? { role, sub } : { role, sub, loc }, TEST_SECRET),
    stop: (keep = false) =>
      (stopped ??= (async () => {
        await gateway.close();
        await engine.close();
        if (!keep) rmSync(dir, { recursive: true, force: true });
      })()),
  };
}

export interface ClientOptions {
  token?: string;
  /** `?format=` on the URL. */
  format?: 'json' | 'msgpack';
  /** Send binary msgpack frames instead of JSON text. */
  binary?: boolean;
  /** Answer the server's pings (default true); false makes a client that never pongs. */
  autoPong?: boolean;
}

export class WsClient {
  readonly messages: Msg[] = [];
  /** Whether each message came as a binary frame. */
  readonly binaryFrames: boolean[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<() => void> = [];
  #closeInfo: { code: number; reason: string } | undefined;

  private constructor(
    readonly ws: WebSocket,
    public binary: boolean,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.messages.push(isBinary ? unpack(data) : JSON.parse(data.toString('utf8')));
      this.binaryFrames.push(isBinary);
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.#closeInfo = { code, reason: reason.toString() };
        resolve(this.#closeInfo);
        this.#wake();
      });
    });
  }

  static async open(wsUrl: string, options: ClientOptions = {}): Promise<WsClient> {
    const query = new URLSearchParams();
    if (options.token !== undefined) query.set('token', options.token);
    if (options.format !== undefined) query.set('format', options.format);
    const url = query.size > 0 ? `${wsUrl}?${query}` : wsUrl;
    const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024, autoPong: options.autoPong ?? true });
    const client = new WsClient(ws, options.binary ?? false);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    ws.on('error', () => {});
    return client;
  }

  send(frame: unknown): void {
    if (this.binary) this.ws.send(pack(frame), { binary: true });
    else this.ws.send(JSON.stringify(frame));
  }

  sendRaw(data: Buffer | string, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  /** Resolves with the first message from index `from` matching `match` (its index too). */
  async next(match: (m: Msg) => boolean, from = 0, timeoutMs = 20_000): Promise<{ msg: Msg; index: number }> {
    const deadline = Date.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.messages.length; i++) if (match(this.messages[i])) return { msg: this.messages[i], index: i };
      if (this.#closeInfo) throw new Error(`closed (${this.#closeInfo.code}) before a matching message; got ${JSON.stringify(this.messages.slice(-3))}`);
      if (Date.now() > deadline) throw new Error(`no matching message; last: ${JSON.stringify(this.messages.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Subscribes and waits for the first answer on that topic (snapshot, update or error). */
  async sub(topic: string, extra: Record<string, unknown> = {}): Promise<Msg> {
    const from = this.messages.length;
    this.send({ op: 'sub', topic, ...extra });
    return (await this.next((m) => m.topic === topic || m.ref === topic, from)).msg;
  }

  /** Waits until an update of `topic` with seq ≥ `seq` has arrived. */
  async untilSeq(topic: string, seq: number): Promise<void> {
    await this.next((m) => m.topic === topic && m.seq >= seq);
  }

  updates(topic: string): Msg[] {
    return this.messages.filter((m) => m.op === 'update' && m.topic === topic);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** GET `path` on the server, with `token` as the bearer when given: the status and the JSON body. */
export async function getAs(s: Pick<WsServer, 'url'>, path: string, token?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${s.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: (await response.json()) as any };
}

/** Posts `events` with an ingest token and expects every one applied. */
export async function mustApply(s: Pick<WsServer, 'url'>, events: unknown[]): Promise<void> {
  const results = await post(s.url, signToken({ role: 'ingest', sub: 'ingest-1' }, TEST_SECRET), events);
  expect(results, JSON.stringify(results)).toEqual(events.map(() => expect.objectContaining({ ok: true })));
}

export async function post(url: string, token: string, events: unknown): Promise<any[]> {
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(events),
  });
  if (response.status !== 200) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { results: any[] }).results;
}

/**
 * A WebSocket client on a bare TCP socket: it upgrades, sends the given frames, and from then on
 * does nothing it is not told to (the socket can be paused so it never reads, never pongs).
 */
export async function openRawWs(wsUrl: string, frames: unknown[] = []): Promise<Socket> {
  const { hostname, port, pathname } = new URL(wsUrl);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      resolve(got);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`);
  socket.on('error', () => {});
  for (const frame of frames) socket.write(maskedTextFrame(JSON.stringify(frame)));
  return socket;
}

/** A client → server text frame (RFC 6455 §5.2: clients mask), for payloads under 64 KiB. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const mask = randomBytes(4);
  return Buffer.concat([header, mask, payload.map((byte, i) => byte ^ mask[i % 4])]);
}

/** Upgrade attempt that resolves with the HTTP status of a refusal (or 101). */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}

/** Seqs of the updates after the snapshot, checked consecutive from the snapshot's seq. */
export function assertGapFree(client: WsClient, topic: string): { snapshotSeq: number; last: number } {
  const snapshot = client.messages.find((m) => m.op === 'snapshot' && m.topic === topic);
  if (!snapshot) throw new Error(`no snapshot of ${topic}`);
  let expected = snapshot.seq + 1;
  for (const m of client.updates(topic)) {
    if (m.seq !== expected) throw new Error(`${topic}: expected seq ${expected}, got ${m.seq}`);
    expected++;
  }
  return { snapshotSeq: snapshot.seq, last: expected - 1 };
}

export const loc = (id: string, location: string) => ({ id, type: 'location.upserted', location, kind: 'store', lat: 31.2, lon: 121.5 });
export const recv = (id: string, sku: string, location: string, qty: number) => ({ id, type: 'stock.received', sku, location, qty });
export const sold = (id: string, sku: string, location: string, qty: number) => ({ id, type: 'stock.sold', sku, location, qty });

/**
 * Servers and clients for one test file, each stopped or closed after every test (newest first),
 * so a failing test cannot leak sockets into the next.
 */
export function useWsServers() {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  return {
    async server(options: Parameters<typeof startWsServer>[0] = {}, dir?: string): Promise<WsServer> {
      const s = await startWsServer(options, dir);
      cleanup.push(() => s.stop());
      return s;
    },
    async client(s: WsServer, options: Parameters<typeof WsClient.open>[1] = {}): Promise<WsClient> {
      const c = await WsClient.open(s.wsUrl, options);
      cleanup.push(() => c.close());
      return c;
    },
  };
}
