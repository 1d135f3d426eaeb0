// The client SDK against the real gateway: subscribe to stock/A, post stock events over HTTP,
// get the snapshot then consecutive updates; kill the socket, post more while it is down, and
// see the SDK resume with `since` — every update once, in order, no second snapshot.

import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type OmniClient, type ServerError } from '../client/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { TEST_SECRET, bearer, location, postJson, received, startTestServer, type TestServer } from './gateway-harness.ts';

let server: TestServer | undefined;
let client: OmniClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await server?.stop();
  server = undefined;
});

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000, seen?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${seen ? ` (${seen()})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(['json', 'msgpack'] as const)('client SDK end to end (%s)', (format) => {
  it('snapshot, consecutive updates, and a gapless resume after the socket dies', async () => {
    server = await startTestServer();
    const ingest = bearer(server.token('ingest'));
    expect((await postJson(server.url, location('loc-1', 'S1'), ingest)).status).toBe(200);

    // The token is asked for before each connect: holding it back keeps the client down while we post.
    let release: () => void = () => {};
    let gate: Promise<void> = Promise.resolve();
    const admin = server.token('admin');
    const log: Array<{ kind: 'snap' | 'upd'; seq: number; data: any }> = [];
    let opens = 0;
    client = connect({
      url: server.url,
      token: async () => {
        await gate;
        return admin;
      },
      format,
      WebSocket,
      backoff: { initialMs: 20, maxMs: 100, jitter: 1 },
    });
    client.on('open', () => opens++);
    client.on('error', () => {}); // the killed socket reports an error; expected here
    client.subscribe<any>('stock/A', {
      onSnapshot: (data, seq) => void log.push({ kind: 'snap', seq, data }),
      onUpdate: (data, seq) => void log.push({ kind: 'upd', seq, data }),
    });
    await waitFor('the snapshot', () => log.length > 0);
    expect(log[0].kind).toBe('snap');

    let id = 0;
    let total = 0;
    const post = async (n: number) => {
      // One POST at a time: each commit is its own batch, so each makes one update on stock/A.
      for (let i = 0; i < n; i++) {
        const answer = await postJson(server!.url, received(`r-${format}-${++id}`, 'A', 'S1', 1), ingest);
        expect(answer.body.results[0].ok).toBe(true);
        total += 1;
      }
    };
    await post(5);
    await waitFor('5 updates', () => log.length >= 6);
    expect(await client.ping()).toBeGreaterThanOrEqual(0);

    // Kill the transport (no close handshake), and keep the client from reconnecting until more
    // events have been committed while it was away.
    gate = new Promise((resolve) => (release = resolve));
    const closed = new Promise<number>((resolve) => client!.on('close', (c) => resolve(c.code)));
    (client.socket as unknown as WebSocket).terminate();
    expect(await closed).toBe(1006);
    await post(4);
    release();
    await waitFor('the reconnect', () => opens === 2);
    await post(3);
    await waitFor('all updates', () => log.at(-1)?.data?.onHand === total);

    const first = log[0].seq;
    expect(log.filter((e) => e.kind === 'snap')).toHaveLength(1); // resumed by replay, not a new snapshot
    expect(log.slice(1).map((e) => e.seq)).toEqual(Array.from({ length: log.length - 1 }, (_, i) => first + 1 + i));
    expect(log.slice(1).map((e) => e.data.onHand)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(client.position('stock/A')?.epoch).toEqual(expect.any(String));

    // Calls over the socket: an event answered by its result; a resend (as after a lost answer)
    // answered as a duplicate and not applied twice.
    const event = { id: `ws-${format}-1`, type: 'stock.received', sku: 'A', location: 'S1', qty: 2 };
    await expect(client.send(event)).resolves.toMatchObject({ ref: event.id, ok: true });
    await expect(client.send(event)).resolves.toMatchObject({ ref: event.id, ok: true, duplicate: true });
    await waitFor('the update of the WebSocket event', () => log.at(-1)?.data?.onHand === total + 2);
  });

  it('ops are matched to their results by id (given or generated)', async () => {
    server = await startTestServer();
    client = connect({ url: server.url, token: server.token('agent', 'ag-1'), format, WebSocket });
    // This agent never came online, so the service processor refuses both (not_found); either
    // way the answer must come back to the call that asked, found by the op's id.
    const refOf = (call: Promise<{ ref: string }>) => call.then((r) => r.ref, (e: ServerError) => e.result?.ref);
    const id = `st-${format}-1`;
    const [given, generated] = await Promise.all([
      refOf(client.op({ op: 'status', status: 'available', id })),
      refOf(client.op({ op: 'status', status: 'away' })),
    ]);
    expect(given).toBe(id);
    expect(generated).toMatch(/-\d+$/);
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
  });

  it('a refused token is reported and retried with backoff; close() while connecting is clean', async () => {
    server = await startTestServer();
    const errors: string[] = [];
    const retries: number[] = [];
    client = connect({
      url: server.url,
      token: 'not-a-jwt',
      format,
      WebSocket,
      backoff: { initialMs: 5, maxMs: 20, jitter: 1 },
    });
    client.on('error', (e) => errors.push(e.message));
    client.on('reconnecting', (r) => retries.push(r.attempt));
    await waitFor('three refusals', () => retries.length >= 3);
    expect(errors[0]).toMatch(/401/);
    expect(retries.slice(0, 3)).toEqual([1, 2, 3]);
    // Whatever state the current attempt is in (waiting or mid-handshake), closing must not leave
    // an 'error' on a 'ws' socket with no listener: that would be an uncaught exception.
    client.close();
    const late = connect({ url: server.url, format, WebSocket });
    late.close(); // still connecting
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.connected).toBe(false);
  });
});

describe('client SDK and token expiry (4001)', () => {
  it('renews the token through the token function and resumes every topic without a gap', async () => {
    server = await startTestServer();
    const ingest = bearer(server.token('ingest'));
    expect((await postJson(server.url, location('loc-1', 'S1'), ingest)).status).toBe(200);
    const short = signToken({ sub: 'shopper', role: 'customer', exp: Math.ceil((Date.now() + 2000) / 1000) }, TEST_SECRET);
    const long = signToken({ sub: 'shopper', role: 'customer', exp: Math.floor(Date.now() / 1000) + 3600 }, TEST_SECRET);
    const tokens = [short, long];
    const closes: number[] = [];
    const seqs: number[] = [];
    let snapshots = 0;
    // Retries stay quick: on a loaded CI host a failed attempt must not back off for seconds.
    client = connect({ url: server.url, token: () => tokens.shift() ?? long, WebSocket, heartbeat: false, backoff: { initialMs: 20, maxMs: 250, jitter: 1 } });
    client.on('close', ({ code }) => void closes.push(code));
    client.subscribe('stock/A', { onSnapshot: () => void snapshots++, onUpdate: (_d, seq) => void seqs.push(seq) });
    await waitFor('the snapshot', () => snapshots === 1);
    await waitFor('the expiry close', () => closes.includes(4001));
    // Posted after the expired socket closed: the renewed socket must resume and deliver them.
    for (let i = 0; i < 3; i++) {
      const r = await postJson(server.url, { id: `after-exp-${i}`, type: 'stock.received', sku: 'A', location: 'S1', qty: 1 }, ingest);
      expect(r.status).toBe(200);
    }
    // A generous bound (the host may be loaded); what was seen is in the message if it passes.
    await waitFor('the updates after the renewal', () => seqs.length >= 3, 30_000, () => `closes ${JSON.stringify(closes)}, seqs ${JSON.stringify(seqs)}, snapshots ${snapshots}`);
    expect(seqs).toEqual([seqs[0], seqs[0] + 1, seqs[0] + 2]);
    expect(snapshots).toBe(1);
    expect(client.closed).toBe(false);
  });

  it('stops with token_expired instead of retrying a fixed token the server would refuse', async () => {
    server = await startTestServer();
    const token = signToken({ sub: 'shopper', role: 'customer', exp: Math.ceil((Date.now() + 2000) / 1000) }, TEST_SECRET);
    const errors: string[] = [];
    let reconnects = 0;
    client = connect({ url: server.url, token, WebSocket, heartbeat: false });
    client.on('error', (e) => void errors.push((e as { code?: string }).code ?? e.message));
    client.on('reconnecting', () => void reconnects++);
    const closed = new Promise<{ code: number; willReconnect: boolean }>((resolve) => client!.on('close', resolve));
    await client.ping();
    const last = await closed;
    expect(last).toMatchObject({ code: 4001, willReconnect: false });
    expect(errors).toContain('token_expired');
    expect(reconnects).toBe(0);
    expect(client.closed).toBe(true);
    await expect(client.ping()).rejects.toThrow(/closed/);
  });
});
