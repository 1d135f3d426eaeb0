// What the WebSocket answers to events and ops, and how an agent's request subscription ends:
// a refused or dropped event is answered by a `result` (as HTTP answers it in `results`), a
// completed request ends the agent's `request/<id>` with `ended` rather than an error, and a desk
// may sign its own agent on and off.

import { describe, expect, it } from 'vitest';
import { post, useWsServers, type WsClient, type WsServer } from './ws-harness.ts';

const { server, client } = useWsServers();

const online = (id: string, agent: string) => ({ id, type: 'agent.online', agent, skills: { billing: 5 }, capacity: { chat: 1 } });
const requested = (id: string, request: string) => ({ id, type: 'service.requested', request, subject: 'c1', channel: 'chat', topic: 'billing' });

/** Sends an event op and resolves with its answer (the first result or error naming its id). */
async function sendEvent(c: WsClient, event: Record<string, unknown>): Promise<Record<string, any>> {
  const from = c.messages.length;
  c.send({ op: 'event', event });
  return (await c.next((m) => m.ref === event.id, from)).msg;
}

async function deskOnline(s: WsServer, agent: string): Promise<WsClient> {
  const desk = await client(s, { token: s.token('agent', agent) });
  expect(await sendEvent(desk, online(`on-${agent}`, agent))).toEqual({ op: 'result', ref: `on-${agent}`, ok: true, agent });
  return desk;
}

describe('agent desks sign on and off', () => {
  it('an agent token brings its own agent online and offline; another agent, or presence, is refused', async () => {
    const s = await server();
    const desk = await deskOnline(s, 'a1');
    // Online for real: a request is offered to it at once.
    expect((await desk.sub('agent/a1')).op).toBe('snapshot');
    await post(s.url, s.token('ingest'), [requested('rq1', 'r1')]);
    expect((await desk.next((m) => m.topic === 'agent/a1' && m.op === 'update')).msg.data).toMatchObject({ type: 'offer', request: 'r1' });

    const forbidden = (ref: string) => ({ op: 'result', ref, ok: false, error: { code: 'forbidden', message: expect.any(String) } });
    expect(await sendEvent(desk, online('on-a2', 'a2'))).toEqual(forbidden('on-a2'));
    expect(await sendEvent(desk, { id: 'off-a2', type: 'agent.offline', agent: 'a2' })).toEqual(forbidden('off-a2'));
    expect(await sendEvent(desk, { id: 'gone', type: 'agent.disconnected', agent: 'a1' })).toEqual(forbidden('gone'));

    const from = desk.messages.length;
    expect(await sendEvent(desk, { id: 'off-a1', type: 'agent.offline', agent: 'a1' })).toEqual({ op: 'result', ref: 'off-a1', ok: true, agent: 'a1' });
    // Offline for real: its open offer is revoked.
    expect((await desk.next((m) => m.topic === 'agent/a1' && m.op === 'update', from)).msg.data).toMatchObject({ type: 'revoked', request: 'r1', reason: 'offline' });
    expect(desk.messages.filter((m) => m.op === 'error')).toEqual([]);
  });
});

/** Desk a1, online, with request r1 assigned to it and its `request/r1` subscribed. */
async function deskWithRequest(s: WsServer): Promise<WsClient> {
  const desk = await deskOnline(s, 'a1');
  await desk.sub('agent/a1');
  await post(s.url, s.token('ingest'), [requested('rq1', 'r1')]);
  await desk.next((m) => m.topic === 'agent/a1' && m.data?.type === 'offer');
  desk.send({ op: 'accept', request: 'r1', id: 'acc-r1' });
  expect((await desk.next((m) => m.ref === 'acc-r1')).msg).toMatchObject({ op: 'result', ok: true, status: 'assigned' });
  expect((await desk.sub('request/r1')).op).toBe('snapshot');
  return desk;
}

describe("the end of an agent's request subscription", () => {
  it('a completed request ends it with `ended` after the last status, never an error; a new sub is refused', async () => {
    const s = await server();
    const desk = await deskWithRequest(s);
    const from = desk.messages.length;
    desk.send({ op: 'complete', request: 'r1', id: 'done-r1' });
    expect((await desk.next((m) => m.ref === 'done-r1', from)).msg).toMatchObject({ op: 'result', ok: true, status: 'completed' });
    const { index: endedAt, msg: ended } = await desk.next((m) => m.op === 'ended', from);
    expect(ended).toEqual({ op: 'ended', topic: 'request/r1', reason: 'completed' });
    const onTopic = desk.messages.slice(from, endedAt).filter((m) => m.topic === 'request/r1');
    expect(onTopic.at(-1)).toMatchObject({ op: 'update', data: { type: 'status', status: 'completed' } });
    expect(desk.messages.filter((m) => m.op === 'error')).toEqual([]);

    expect(await desk.sub('request/r1')).toMatchObject({ op: 'error', code: 'forbidden', ref: 'request/r1' });
  });

  it('a request re-queued because its agent went offline ends it with reason `unassigned`', async () => {
    const s = await server();
    const desk = await deskWithRequest(s);
    const from = desk.messages.length;
    await post(s.url, s.token('ingest'), [{ id: 'off', type: 'agent.offline', agent: 'a1' }]);
    expect((await desk.next((m) => m.op === 'ended', from)).msg).toEqual({ op: 'ended', topic: 'request/r1', reason: 'unassigned' });
  });
});

describe('answers to events and ops', () => {
  it('forbidden and rate-limited events and ops get results; a rate-limited sub or ping gets an error', async () => {
    // Two ops at once, then (practically) none: the rest of this test's ops are dropped.
    const s = await server({ wsLimits: { opsPerSecond: 0.001, opsBurst: 2 } });
    const anon = await client(s);
    const refused = (ref: string | null, code: string) => ({ op: 'result', ref, ok: false, error: { code, message: expect.any(String) } });
    expect(await sendEvent(anon, { id: 'e1', type: 'stock.received', sku: 'A', location: 'S1', qty: 1 })).toEqual(refused('e1', 'forbidden'));
    anon.send({ op: 'event', event: { type: 'stock.received', sku: 'A', location: 'S1', qty: 1 } });
    expect((await anon.next((m) => m.op === 'result' && m.ref === null)).msg).toEqual(refused(null, 'forbidden'));

    expect(await sendEvent(anon, { id: 'e3', type: 'stock.received', sku: 'A', location: 'S1', qty: 1 })).toEqual(refused('e3', 'rate_limited'));
    anon.send({ op: 'accept', request: 'r1', id: 'acc' });
    expect((await anon.next((m) => m.ref === 'acc')).msg).toEqual(refused('acc', 'rate_limited'));
    expect(await anon.sub('stock/A')).toEqual({ op: 'error', code: 'rate_limited', message: expect.any(String), ref: 'stock/A' });
    anon.send({ op: 'ping', id: 'p1' });
    expect((await anon.next((m) => m.ref === 'p1')).msg).toMatchObject({ op: 'error', code: 'rate_limited' });
  });
});
