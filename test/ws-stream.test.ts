// /v1/ws streams: snapshot then consecutive updates (JSON and msgpack), resume with since,
// epochs, seq continuity across a restart, ping, event ops and metrics.

import { describe, expect, it } from 'vitest';
import { assertGapFree, loc, post, recv, startWsServer, WsClient, type WsServer, useWsServers } from './ws-harness.ts';

const { server, client } = useWsServers();

describe('WebSocket streams', () => {
  it('sub answers a snapshot, then every update with consecutive seq (JSON)', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    await post(s.url, ingest, [loc('l1', 'S1')]);
    const c = await client(s);
    const snapshot = await c.sub('stock/A');
    expect(snapshot).toEqual({ op: 'snapshot', topic: 'stock/A', seq: 0, epoch: s.engine.epoch, data: null });

    for (let i = 1; i <= 5; i++) await post(s.url, ingest, [recv(`r${i}`, 'A', 'S1', i)]);
    await c.untilSeq('stock/A', 5);
    const updates = c.updates('stock/A');
    expect(updates.map((u) => u.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(updates[4]).toMatchObject({ op: 'update', topic: 'stock/A', seq: 5, data: { onHand: 15 } });
    expect(typeof updates[4].ts).toBe('number');
    expect(c.binaryFrames.every((b) => !b)).toBe(true);

    // A second subscriber now gets the state so far in its snapshot.
    const late = await client(s);
    expect(await late.sub('stock/A')).toMatchObject({ op: 'snapshot', seq: 5, data: { onHand: 15, locations: { S1: { onHand: 15 } } } });
    expect(await late.sub('stock/A@S1')).toMatchObject({ op: 'snapshot', topic: 'stock/A@S1', seq: 5 });
  });

  it('answers in msgpack with ?format=msgpack, and in the format the client last sent', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    await post(s.url, ingest, [loc('l1', 'S1')]);
    const byQuery = await client(s, { format: 'msgpack' });
    const byFrame = await client(s, { binary: true });
    expect(await byQuery.sub('stock/B')).toMatchObject({ op: 'snapshot', seq: 0 });
    expect(await byFrame.sub('stock/B')).toMatchObject({ op: 'snapshot', seq: 0 });
    for (let i = 1; i <= 3; i++) await post(s.url, ingest, [recv(`r${i}`, 'B', 'S1', 1)]);
    for (const c of [byQuery, byFrame]) {
      await c.untilSeq('stock/B', 3);
      expect(assertGapFree(c, 'stock/B').last).toBe(3);
      expect(c.binaryFrames.every((b) => b)).toBe(true);
    }
    // A JSON frame switches the answer format back (no ?format= was given).
    byFrame.binary = false;
    byFrame.send({ op: 'ping', id: 7 });
    await byFrame.next((m) => m.op === 'pong' && m.id === 7);
    expect(byFrame.binaryFrames.at(-1)).toBe(false);
  });

  it('resumes with since: exactly the missed updates; too old or another epoch → snapshot', async () => {
    const s = await server({ wsLimits: { historyPerTopic: 4 } });
    const ingest = s.token('ingest');
    await post(s.url, ingest, [loc('l1', 'S1')]);
    const first = await client(s);
    await first.sub('stock/C');
    for (let i = 1; i <= 3; i++) await post(s.url, ingest, [recv(`a${i}`, 'C', 'S1', 1)]);
    await first.untilSeq('stock/C', 3);
    await first.close();
    for (let i = 4; i <= 6; i++) await post(s.url, ingest, [recv(`a${i}`, 'C', 'S1', 1)]);

    const resumed = await client(s);
    resumed.send({ op: 'sub', topic: 'stock/C', since: 3, epoch: s.engine.epoch });
    await resumed.untilSeq('stock/C', 6);
    expect(resumed.messages.map((m) => [m.op, m.seq])).toEqual([
      ['update', 4],
      ['update', 5],
      ['update', 6],
    ]);
    // Up to date: nothing to replay, and later updates follow.
    const current = await client(s);
    current.send({ op: 'sub', topic: 'stock/C', since: 6 });
    await post(s.url, ingest, [recv('a7', 'C', 'S1', 1)]);
    await current.untilSeq('stock/C', 7);
    expect(current.messages.map((m) => [m.op, m.seq])).toEqual([['update', 7]]);

    // History keeps 4 updates (4..7): since 1 is too old.
    const old = await client(s);
    expect(await old.sub('stock/C', { since: 1, epoch: s.engine.epoch })).toMatchObject({ op: 'snapshot', seq: 7, data: { onHand: 7 } });
    const otherEpoch = await client(s);
    expect(await otherEpoch.sub('stock/C', { since: 6, epoch: 'not-this-one' })).toMatchObject({ op: 'snapshot', seq: 7, epoch: s.engine.epoch });
    const future = await client(s);
    expect(await future.sub('stock/C', { since: 99 })).toMatchObject({ op: 'snapshot', seq: 7 });

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/omni_ws_history_total\{result="hit"\} 2/);
    expect(metrics).toMatch(/omni_ws_history_total\{result="miss"\} 3/);
    expect(metrics).toMatch(/omni_ws_connections \d+/);
    expect(metrics).toMatch(/omni_ws_subscriptions \d+/);
    expect(metrics).toMatch(/omni_ws_messages_sent_total\{kind="state"\} \d+/);
  });

  it('event topics: snapshot with data null, then every alert in order', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    await post(s.url, ingest, [loc('l1', 'S1')]);
    const c = await client(s, { token: s.token('supervisor') });
    expect(await c.sub('alerts/stock')).toEqual({ op: 'snapshot', topic: 'alerts/stock', seq: 0, epoch: s.engine.epoch, data: null });
    await post(s.url, ingest, [recv('r1', 'D', 'S1', 1), { id: 's1', type: 'stock.sold', sku: 'D', location: 'S1', qty: 3 }]);
    await c.untilSeq('alerts/stock', 2);
    expect(c.updates('alerts/stock').map((u) => [u.seq, u.data.type])).toEqual([
      [1, 'low_stock'],
      [2, 'discrepancy'],
    ]);
  });

  it('after a restart on the same data dir, seq continues and the epoch is the same', async () => {
    const s1 = await startWsServer();
    const ingest = s1.token('ingest');
    await post(s1.url, ingest, [loc('l1', 'S1'), recv('r1', 'E', 'S1', 1), recv('r2', 'E', 'S1', 1)]);
    await post(s1.url, ingest, [recv('r3', 'E', 'S1', 1)]);
    const c1 = await WsClient.open(s1.wsUrl);
    const before = await c1.sub('stock/E');
    await s1.stop(true);
    expect((await c1.closed).code).toBe(1001);

    const s2 = await server({}, s1.dataDir);
    const c2 = await client(s2);
    c2.send({ op: 'sub', topic: 'stock/E', since: before.seq, epoch: before.epoch });
    await post(s2.url, ingest, [recv('r4', 'E', 'S1', 1)]);
    await c2.untilSeq('stock/E', before.seq + 1);
    // The client was up to date at before.seq, which the new process's (empty) history covers:
    // nothing to replay, and the next update continues the old numbering.
    expect(c2.messages.map((m) => [m.op, m.seq])).toEqual([['update', before.seq + 1]]);
    expect(c2.messages[0].data).toMatchObject({ onHand: 4 });
    const fresh = await client(s2);
    expect(await fresh.sub('stock/E')).toMatchObject({ op: 'snapshot', seq: before.seq + 1, epoch: before.epoch });
  });

  it('event ops: results after commit, forbidden sends, agent ops mapped to events', async () => {
    const s = await server();
    const admin = await client(s, { token: s.token('admin') });
    admin.send({ op: 'event', event: loc('l1', 'S1') });
    expect((await admin.next((m) => m.op === 'result')).msg).toEqual({ op: 'result', ref: 'l1', ok: true });
    admin.send({ op: 'event', event: recv('r1', 'F', 'S1', 0) });
    expect((await admin.next((m) => m.op === 'result' && m.ref === 'r1')).msg).toMatchObject({ ok: false, error: { code: 'invalid_event' } });

    const anon = await client(s);
    // Refused before the engine, and answered like any refused event: a result, not an error.
    anon.send({ op: 'event', event: recv('r2', 'F', 'S1', 1) });
    expect((await anon.next((m) => m.op === 'result' || m.op === 'error')).msg).toEqual({
      op: 'result', ref: 'r2', ok: false, error: { code: 'forbidden', message: expect.any(String) },
    });

    const agent = await client(s, { token: s.token('agent', 'ag1') });
    agent.send({ op: 'status', status: 'away', id: 'st1' });
    // The ops reach the service processor as events: this agent never came online, q1 does not exist.
    expect((await agent.next((m) => m.op === 'result')).msg).toMatchObject({ ref: 'st1', ok: false, error: { code: 'not_found' } });
    agent.send({ op: 'accept', request: 'q1' });
    expect((await agent.next((m) => m.op === 'result' && m.ref !== 'st1')).msg).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // Completing a request not assigned to it is refused before the engine.
    agent.send({ op: 'complete', request: 'q1', id: 'c1' });
    expect((await agent.next((m) => m.ref === 'c1')).msg).toEqual({ op: 'result', ref: 'c1', ok: false, error: { code: 'forbidden', message: expect.any(String) } });
    agent.send({ op: 'ping' });
    expect((await agent.next((m) => m.op === 'pong')).msg).toEqual({ op: 'pong' });
    // The connection stayed open throughout.
    expect(anon.ws.readyState).toBe(anon.ws.OPEN);
  });

  it('shutdown answers pending event ops, then closes every WebSocket with 1001', async () => {
    const s = await server();
    const admin = await client(s, { token: s.token('admin') });
    const watcher = await client(s);
    await watcher.sub('stock/Z');
    admin.send({ op: 'event', event: loc('l1', 'S1') });
    await admin.next((m) => m.op === 'result');
    // The pong proves the server has read the event frame (frames still unread at shutdown are
    // lost with the connection; their ids make a resend safe).
    admin.send({ op: 'event', event: recv('z1', 'Z', 'S1', 1) });
    admin.send({ op: 'ping', id: 'p' });
    await admin.next((m) => m.op === 'pong');
    const closing = s.gateway.close();
    expect((await admin.closed).code).toBe(1001);
    expect((await watcher.closed).code).toBe(1001);
    await closing;
    // The second event was committed and answered before the close.
    expect(admin.messages.filter((m) => m.op === 'result').at(-1)).toEqual({ op: 'result', ref: 'z1', ok: true });
  });
});
