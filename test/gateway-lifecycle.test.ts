import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bearer, location, startTestServer, type TestServer } from './gateway-harness.ts';
import { openConnection, type RawConnection } from './gateway-raw-client.ts';

const open: Array<TestServer | RawConnection> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await ('stop' in thing ? thing.stop() : thing.close());
});

async function start() {
  const server = await startTestServer();
  open.push(server);
  return server;
}

async function connection(url: string) {
  const conn = await openConnection(url);
  open.push(conn);
  return conn;
}

describe('gateway lifecycle', () => {
  it('streams a large answer to a client that stops reading for a while', async () => {
    const server = await start();
    const conn = await connection(server.url);
    const long = 'x'.repeat(100);
    const events = Array.from({ length: 10_000 }, (_, i) => ({ id: `${long}-${i}`, type: `${long}-${i}` }));
    const body = JSON.stringify(events);
    const unknownTypes = () => server.engine.stats().eventsByTypeAndResult.get('unknown|unknown_type') ?? 0;

    conn.socket.pause();
    conn.send('POST', '/v1/events', { 'Content-Type': 'application/json', ...bearer(server.token('ingest')) }, body);
    // The engine answers unknown types at once; after that the gateway has tried to write the
    // ~3 MB answer into a socket nobody reads.
    await vi.waitFor(() => expect(unknownTypes()).toBe(10_000));
    await new Promise((resolve) => setImmediate(resolve));
    conn.socket.resume();

    const response = await conn.read();
    expect(response.status).toBe(200);
    expect(response.body.length).toBeGreaterThan(2_500_000);
    const { results } = JSON.parse(response.body.toString());
    expect(results).toHaveLength(10_000);
    expect(results[9_999]).toMatchObject({ id: `${long}-9999`, error: { code: 'unknown_type' } });
  });

  it('refuses to start on a port that is already taken', async () => {
    const server = await start();
    const second = startTestServer({ port: server.gateway.port });
    await expect(second).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+/);
  });

  it('on close: readiness fails, new connections are refused, in-flight requests are answered', async () => {
    const server = await start();
    const idle = await connection(server.url);
    const busy = await connection(server.url);
    const ingest = bearer(server.token('ingest'));

    // A POST whose body is only half sent stays in flight until we finish it.
    const body = Buffer.from(JSON.stringify([location('drain-1', 'S9')]));
    busy.socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAuthorization: ${ingest.authorization}\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    busy.socket.write(body.subarray(0, 10));
    await vi.waitFor(() => expect(server.gateway.inFlight).toBe(1));

    const closing = server.gateway.close();
    let closed = false;
    void closing.then(() => (closed = true));

    idle.send('GET', '/readyz');
    expect((await idle.read()).status).toBe(503);
    idle.send('POST', '/v1/events', { 'Content-Type': 'application/json', ...ingest }, '[]');
    const refused = await idle.read();
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ error: { code: 'unavailable' } });

    await expect(
      new Promise((resolve, reject) => connect(Number(new URL(server.url).port), '127.0.0.1').once('connect', resolve).once('error', reject)),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(closed).toBe(false);

    busy.socket.write(body.subarray(10));
    const answered = await busy.read();
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body.toString())).toEqual({ results: [{ id: 'drain-1', ok: true }] });

    await closing;
    // Idle keep-alive connections are closed once the drain is over.
    await new Promise<void>((resolve) => (idle.socket.destroyed ? resolve() : idle.socket.once('close', () => resolve())));
    expect(server.engine.snapshot('stock/none')).toBeUndefined();
  });
});
