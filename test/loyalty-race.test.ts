// The last points and a single-use coupon, raced by 1,000 clients on their own connections
// through a real gateway: 500 HTTP keep-alive connections (an agent with one socket each, opened
// before the race) and 500 WebSockets, sending as tills (ingest tokens) with the customer's
// different ids, all released together at a barrier. Each asks for more than half of the last
// points, so exactly one can win; each also uses the coupon. Afterwards: one redemption and one
// use won, every other client was refused with the right code, nothing was overdrawn, and the
// balance, its history and the coupon read through HTTP and on every id's `loyalty/` topic agree.

import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, getJson, postJson, startTestServer, type TestServer } from './gateway-harness.ts';
import { WsClient, type Msg } from './ws-harness.ts';

const CLIENTS = 1000;
const HTTP_CLIENTS = 500;
/** Connections opened at a time while setting up: a burst of 1,000 could overflow the listen backlog. */
const OPENING = 100;
const CUSTOMER = 'acct-race';
const IDS = [CUSTOMER, 'phone:+4915199990000', 'email:race@example.com', 'device:race-kiosk'];
const LAST = 100;
const COUPON = 'LAST-ONE';

interface Answer {
  id: string;
  ok: boolean;
  error?: { code: string; wanted?: number; available?: number };
  balance?: number;
  customer?: string;
}

interface Outcome {
  redeemed: Answer;
  used: Answer;
  /** The client's own connection: its local port, and whether the race went on the socket opened before it. */
  port: number;
  opened: boolean;
}

const redemption = (i: number) => ({ id: `redeem-${i}`, type: 'loyalty.redeemed', subject: IDS[i % IDS.length], points: LAST / 2 + 1 + (i % (LAST / 2)), redemption: `race-${i}` });
const couponUse = (i: number) => ({ id: `use-${i}`, type: 'coupon.redeemed', coupon: COUPON, subject: IDS[(i + 1) % IDS.length], order: `order-${i}` });

/** A client with one keep-alive HTTP connection of its own. */
class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  port = 0;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** Opens the connection (a health check) so that the race finds it open. */
  async open(): Promise<void> {
    const answer = await this.send('GET', '/healthz');
    expect(answer.status).toBe(200);
    this.port = answer.port;
  }

  async race(i: number): Promise<Outcome> {
    const answer = await this.send('POST', '/v1/events', JSON.stringify([redemption(i), couponUse(i)]));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [redeemed, used] = answer.body.results as Answer[];
    return { redeemed, used, port: answer.port, opened: answer.reused && answer.port === this.port };
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, body?: string): Promise<{ status: number; body: any; port: number; reused: boolean }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${this.url}${path}`, { method, agent: this.agent, headers: { 'content-type': 'application/json', ...bearer(this.token) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), port: req.socket!.localPort!, reused: req.reusedSocket }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** A client on a WebSocket of its own, sending each event as an `event` op. */
class WsRaceClient {
  constructor(readonly ws: WsClient) {}

  get port(): number {
    return (this.ws.ws as unknown as { _socket: { localPort: number } })._socket.localPort;
  }

  async race(i: number): Promise<Outcome> {
    const events = [redemption(i), couponUse(i)];
    for (const event of events) this.ws.send({ op: 'event', event });
    const [redeemed, used] = await Promise.all(events.map(async (e) => resultOf((await this.ws.next((m) => m.op === 'result' && m.ref === e.id)).msg)));
    return { redeemed, used, port: this.port, opened: true };
  }
}

const resultOf = (m: Msg): Answer => ({ ...m, id: m.ref }) as Answer;

async function inGroups<T>(count: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += OPENING) out.push(...(await Promise.all(Array.from({ length: Math.min(OPENING, count - start) }, (_, k) => open(start + k)))));
  return out;
}

let server: TestServer | undefined;
const closers: Array<() => unknown> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await server?.stop();
  server = undefined;
});

describe('1,000 clients race for the last points and a single-use coupon', () => {
  it('exactly one redemption and one coupon use win, every other client is refused with the right code, and every read agrees afterwards', async () => {
    server = await startTestServer();
    const url = server.url;
    const wsUrl = `ws://127.0.0.1:${server.gateway.port}/v1/ws`;
    const admin = bearer(server.token('admin', 'ops'));
    const setup = await postJson(
      url,
      [
        { id: 'link', type: 'identity.linked', ids: IDS.slice(1), customer: CUSTOMER },
        { id: 'earn-1', type: 'loyalty.earned', subject: IDS[1], points: 150, reason: 'signup' },
        { id: 'earn-2', type: 'loyalty.earned', subject: IDS[3], points: 30, expiresAt: Date.now() + 86_400_000 },
        { id: 'coupon', type: 'coupon.issued', coupon: COUPON, subject: CUSTOMER, value: 5 },
      ],
      admin,
    );
    expect(setup.body.results.filter((a: Answer) => !a.ok)).toEqual([]);
    // What was spent before leaves the last LAST points, spread over two lots.
    const before = await postJson(url, { id: 'redeem-before', type: 'loyalty.redeemed', subject: CUSTOMER, points: 80, redemption: 'before' }, admin);
    expect(before.body.results[0]).toMatchObject({ ok: true, balance: LAST });

    // Every id's topic, watched from before the race.
    const watcher = await WsClient.open(wsUrl, { token: server.token('admin', 'ops') });
    closers.push(() => watcher.close());
    for (const id of IDS) expect((await watcher.sub(`loyalty/${id}`)).data).toMatchObject({ customer: CUSTOMER, balance: LAST });

    const wsClients = await inGroups(CLIENTS - HTTP_CLIENTS, async (k) => {
      const ws = await WsClient.open(wsUrl, { token: server!.token('ingest', `till-ws-${k}`) });
      closers.push(() => ws.close());
      return new WsRaceClient(ws);
    });
    // Opened last: an idle HTTP connection is closed sooner than a WebSocket.
    const httpClients = await inGroups(HTTP_CLIENTS, async (k) => {
      const client = new HttpClient(url, server!.token('ingest', `till-http-${k}`));
      closers.push(() => client.close());
      await client.open();
      return client;
    });
    const clients: Array<HttpClient | WsRaceClient> = [...httpClients, ...wsClients];
    expect(new Set(clients.map((c) => c.port)).size).toBe(CLIENTS);

    let release!: () => void;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const racing = clients.map((client, i) => barrier.then(() => client.race(i)));
    release();
    const outcomes = await Promise.all(racing);

    // Each client raced on the connection it had opened, its own.
    expect(outcomes.filter((o) => !o.opened)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.port)).size).toBe(CLIENTS);

    const won = outcomes.filter((o) => o.redeemed.ok);
    expect(won).toHaveLength(1);
    const winner = redemption(outcomes.indexOf(won[0]));
    const left = LAST - winner.points;
    expect(won[0].redeemed).toMatchObject({ id: winner.id, customer: CUSTOMER, balance: left });
    for (const { redeemed } of outcomes.filter((o) => !o.redeemed.ok)) {
      expect(redeemed.error?.code, JSON.stringify(redeemed)).toBe('insufficient_points');
      // Refused against what the winner left: no loser saw the points the winner spent.
      expect(redeemed.error).toMatchObject({ available: left });
    }
    // Nothing overdrawn: what the answers say was spent fits in the last points.
    expect(won.reduce((sum, o) => sum + redemption(outcomes.indexOf(o)).points, 0)).toBeLessThanOrEqual(LAST);

    const used = outcomes.filter((o) => o.used.ok);
    expect(used).toHaveLength(1);
    expect(used[0].used).toMatchObject({ ok: true, coupon: COUPON, value: 5, uses: 1, maxUses: 1 });
    for (const { used: refused } of outcomes.filter((o) => !o.used.ok)) expect(refused.error?.code, JSON.stringify(refused)).toBe('coupon_used');

    // The topics change live for the customer's own name and the id the winning event named (ids
    // with a kind prefix are not followed otherwise): each ends at what the winner left, with
    // nothing else between. Every id's topic, subscribed afresh, shows it too.
    for (const topic of new Set([`loyalty/${CUSTOMER}`, `loyalty/${winner.subject}`])) {
      await watcher.next((m) => m.op === 'update' && m.topic === topic && m.data?.balance === left);
    }
    for (const m of watcher.messages.filter((m) => m.op === 'update')) expect(m.data.balance, m.topic).toBe(left);
    const reader = await WsClient.open(wsUrl, { token: server.token('admin', 'ops') });
    closers.push(() => reader.close());
    for (const id of IDS) expect((await reader.sub(`loyalty/${id}`)).data).toMatchObject({ customer: CUSTOMER, balance: left });

    // The export, by any id: the balance, lots and history agree with the one win.
    for (const id of IDS) {
      const exported = await getJson(url, `/v1/customers/${encodeURIComponent(id)}`, admin);
      expect(exported.status).toBe(200);
      const loyalty = exported.body.loyalty as { balance: number; lots: Array<{ points: number }>; history: Array<{ kind: string; points: number; redemption?: string; event: string }>; coupons: Array<{ coupon: string }> };
      expect(exported.body.customer).toBe(CUSTOMER);
      expect(loyalty.balance).toBe(left);
      expect(loyalty.lots.reduce((sum, lot) => sum + lot.points, 0)).toBe(left);
      expect(loyalty.history.map((h) => [h.kind, h.points, h.redemption])).toEqual([
        ['earned', 150, undefined],
        ['earned', 30, undefined],
        ['redeemed', 80, 'before'],
        ['redeemed', winner.points, winner.redemption],
      ]);
      expect(loyalty.coupons.map((c) => c.coupon)).toEqual([COUPON]);
    }

    // The coupon's record counts the one use; one more is refused as the racers were.
    expect(server.engine.read(`lo/cp/${COUPON}`)).toMatchObject({ uses: 1, maxUses: 1 });
    const late = await postJson(url, { id: 'use-late', type: 'coupon.redeemed', coupon: COUPON, subject: CUSTOMER }, admin);
    expect(late.body.results[0].error).toMatchObject({ code: 'coupon_used' });

    // The winner's redemption is refundable (its index names the customer); a refused one never was.
    const refunds = await postJson(
      url,
      [
        { id: 'refund-winner', type: 'loyalty.refunded', redemption: winner.redemption },
        { id: 'refund-loser', type: 'loyalty.refunded', redemption: redemption(outcomes.findIndex((o) => !o.redeemed.ok)).redemption },
      ],
      admin,
    );
    expect(refunds.body.results[0]).toMatchObject({ ok: true, customer: CUSTOMER, points: winner.points, balance: LAST });
    expect(refunds.body.results[1].error).toMatchObject({ code: 'unknown_redemption' });
  });
});
