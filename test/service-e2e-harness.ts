// End-to-end set-up for the service domain: a real engine and gateway (with service timeouts of
// the test's choosing), agent desks and customers as SDK clients over `ws`, and an inbox per
// client that tests wait on. Every wait resolves on a message arriving, never on a sleep; the
// timeouts only bound how long a broken test hangs.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { connect, type OmniClient, type ResultFrame } from '../client/mod.ts';
import type { ServiceOptions } from '../engine/mod.ts';
import { openTestEngine, type TestEngine } from './engine-under-test.ts';
import { signToken, startGateway, type Gateway, type Role } from '../gateway/mod.ts';
import { TEST_SECRET } from './gateway-harness.ts';

const WAIT_MS = 20_000;

export interface ServiceServer {
  engine: TestEngine;
  gateway: Gateway;
  url: string;
  dataDir: string;
  token(role: Role, sub?: string): string;
  /** GET with a bearer token of that role and sub (none for anonymous). */
  get(path: string, role?: Role, sub?: string): Promise<{ status: number; body: any }>;
  /** Posts events as `ingest`; throws unless every one is ok. */
  ingest(...events: Array<Record<string, unknown>>): Promise<any[]>;
  /** Closes gateway then engine; the data dir is removed unless `keep`. */
  stop(keep?: boolean): Promise<void>;
}

/**
 * A clock that moves only when told: with it the engine arms no real timers, and a test fires
 * offer timeouts and presence graces with `advance` + `engine.runDueTimers()`, so nothing
 * depends on how fast the machine is.
 */
export class ManualClock {
  constructor(private t = Date.now()) {}

  now = (): number => this.t;

  advance(ms: number): void {
    this.t += ms;
  }
}

export interface ServerOptions {
  service?: ServiceOptions;
  clock?: ManualClock;
}

export async function startServiceServer(options: ServerOptions = {}, dataDir?: string): Promise<ServiceServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'omni-svc-e2e-'));
  const { service = {}, clock } = options;
  const engine = await openTestEngine({ path: dir, domains: { service }, durability: 'none', clock });
  const gateway = await startGateway({ engine, secret: TEST_SECRET, host: '127.0.0.1', port: 0, ...(clock ? { now: clock.now } : {}) });
  const token = (role: Role, sub = `${role}-1`) => signToken({ role, sub }, TEST_SECRET);
  let stopped: Promise<void> | undefined;
  return {
    engine,
    gateway,
    url: gateway.url,
    dataDir: dir,
    token,
    async get(path, role, sub) {
      const headers: Record<string, string> = role === undefined || role === 'anonymous' ? {} : { authorization: `Bearer ${token(role, sub)}` };
      const response = await fetch(`${gateway.url}${path}`, { headers });
      return { status: response.status, body: await response.json() };
    },
    async ingest(...events) {
      const response = await fetch(`${gateway.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token('ingest')}` },
        body: JSON.stringify(events),
      });
      const { results } = (await response.json()) as { results: any[] };
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) throw new Error(`ingest refused: ${JSON.stringify(failed)}`);
      return results;
    },
    stop: (keep = false) =>
      (stopped ??= (async () => {
        await gateway.close();
        await engine.close();
        if (!keep) rmSync(dir, { recursive: true, force: true });
      })()),
  };
}

export interface InboxItem {
  topic: string;
  kind: 'snapshot' | 'update' | 'error' | 'ended';
  data?: any;
  code?: string;
}

/** What one client received on its topics, in order, with waits that wake on arrival. */
export class Inbox {
  readonly items: InboxItem[] = [];
  #waiters = new Set<() => void>();

  push(item: InboxItem): void {
    this.items.push(item);
    for (const wake of [...this.#waiters]) wake();
  }

  /** The first item from index `from` on that matches; rejects after `timeoutMs`. */
  next(match: (item: InboxItem) => boolean, from = 0, timeoutMs = WAIT_MS): Promise<InboxItem> {
    return new Promise((resolve, reject) => {
      let i = from;
      const check = () => {
        for (; i < this.items.length; i++) {
          if (!match(this.items[i])) continue;
          this.#waiters.delete(check);
          clearTimeout(timer);
          resolve(this.items[i]);
          return;
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no matching message; last: ${JSON.stringify(this.items.slice(-4))}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/** An agent desk or a customer: one SDK client and what it received. */
export class Party {
  readonly inbox = new Inbox();
  readonly #stops = new Map<string, () => void>();

  private constructor(
    readonly client: OmniClient,
    readonly sub: string,
  ) {}

  static async open(server: ServiceServer, role: Role, sub: string): Promise<Party> {
    const client = connect({ url: server.url, token: server.token(role, sub), WebSocket, heartbeat: false, backoff: { initialMs: 20, maxMs: 200 } });
    const party = new Party(client, sub);
    // The SDK reports refused subscriptions to onError (below); anything else is a test failure.
    client.on('error', (error) => party.inbox.push({ topic: '', kind: 'error', code: (error as { code?: string }).code ?? error.message }));
    await new Promise<void>((resolve) => {
      const off = client.on('open', () => {
        off();
        resolve();
      });
    });
    return party;
  }

  /**
   * Subscribes and resolves with 'ok' once the snapshot arrived (later updates are then
   * certain to be seen), or with the error code that refused it. A subscription the server
   * ends later (`ended` after a completion or a reassignment) is dropped here too, so it can be
   * asked for again; the end is in the inbox with its reason as `code`.
   */
  subscribe(topic: string): Promise<'ok' | string> {
    const from = this.inbox.items.length;
    const stop = this.client.subscribe<any>(topic, {
      onSnapshot: (data) => this.inbox.push({ topic, kind: 'snapshot', data }),
      onUpdate: (data) => this.inbox.push({ topic, kind: 'update', data }),
      onError: (error) => {
        this.unsubscribe(topic);
        this.inbox.push({ topic, kind: 'error', code: (error as { code?: string }).code });
      },
      onEnd: (reason) => {
        this.unsubscribe(topic);
        this.inbox.push({ topic, kind: 'ended', code: reason });
      },
    });
    this.#stops.set(topic, stop);
    return this.inbox.next((item) => item.topic === topic && item.kind !== 'update', from).then((item) => (item.kind === 'snapshot' ? 'ok' : item.code!));
  }

  unsubscribe(topic: string): void {
    this.#stops.get(topic)?.();
    this.#stops.delete(topic);
  }

  /** The first update on `topic` (from inbox index `from`) whose data matches `fields`. */
  update(topic: string, fields: Record<string, unknown>, from = 0): Promise<any> {
    return this.inbox.next((item) => item.topic === topic && item.kind === 'update' && matches(item.data, fields), from).then((item) => item.data);
  }

  /** The reason the server ended the subscription to `topic`, from inbox index `from`. */
  ended(topic: string, from = 0): Promise<string> {
    return this.inbox.next((item) => item.topic === topic && item.kind === 'ended', from).then((item) => item.code!);
  }

  /** The state of a state topic once it matches `fields` (the snapshot counts). */
  state(topic: string, fields: Record<string, unknown>): Promise<any> {
    return this.inbox.next((item) => item.topic === topic && (item.kind === 'snapshot' || item.kind === 'update') && matches(item.data, fields)).then((item) => item.data);
  }

  get mark(): number {
    return this.inbox.items.length;
  }

  accept(request: string): Promise<ResultFrame> {
    return this.client.op({ op: 'accept', request });
  }

  decline(request: string): Promise<ResultFrame> {
    return this.client.op({ op: 'decline', request });
  }

  complete(request: string): Promise<ResultFrame> {
    return this.client.op({ op: 'complete', request });
  }

  say(request: string, text: string): Promise<ResultFrame> {
    return this.client.op({ op: 'message', request, text });
  }

  /** Closes for good; resolves once the socket is closed (by then the gateway has seen it go). */
  close(): Promise<void> {
    const socket = this.client.socket as unknown as WebSocket | undefined;
    this.client.close();
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }
}

/** Whether `data` has every field of `fields` with an equal (===) value. */
function matches(data: any, fields: Record<string, unknown>): boolean {
  if (typeof data !== 'object' || data === null) return false;
  return Object.entries(fields).every(([key, value]) => data[key] === value);
}

/** Servers and parties of one test file, closed after each test (newest first). */
export function useServiceServers() {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  return {
    async server(options: ServerOptions = {}, dataDir?: string): Promise<ServiceServer> {
      const s = await startServiceServer(options, dataDir);
      cleanup.push(() => s.stop());
      return s;
    },
    async party(s: ServiceServer, role: Role, sub: string): Promise<Party> {
      const p = await Party.open(s, role, sub);
      cleanup.push(() => p.close());
      return p;
    },
  };
}

export const agentOnline = (id: string, agent: string, level: number, capacity: Record<string, number> = { chat: 1 }) => ({
  id,
  type: 'agent.online',
  agent,
  skills: { billing: level },
  capacity,
});

export const requested = (id: string, request: string, subject: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'service.requested',
  request,
  subject,
  channel: 'chat',
  topic: 'billing',
  ...extra,
});
