// The service domain end to end over WebSocket: agent desks and customers are SDK
// clients against a real gateway and engine. Offers, chat, declines, timeouts, desk presence
// and the permissions that follow an assignment, each observed as messages arriving.

import { describe, expect, it } from 'vitest';
import { agentOnline, ManualClock, requested, useServiceServers, type Party } from './service-e2e-harness.ts';

const { server, party } = useServiceServers();

/** Offers of `request` that reached a desk, counted after a ping: the server answers it after all queued before. */
async function offersOf(desk: Party, request: string): Promise<number> {
  await desk.client.ping();
  return desk.inbox.items.filter((i) => i.kind === 'update' && i.data?.type === 'offer' && i.data.request === request).length;
}

/** Agents a1 (level 9) and a2 (level 5) online, each with a desk on its agent topic, and customer c1. */
async function twoDesksAndACustomer(s: Awaited<ReturnType<typeof server>>): Promise<{ a1: Party; a2: Party; c1: Party }> {
  await s.ingest(agentOnline('on-a1', 'a1', 9), agentOnline('on-a2', 'a2', 5));
  const a1 = await party(s, 'agent', 'a1');
  const a2 = await party(s, 'agent', 'a2');
  expect(await a1.subscribe('agent/a1')).toBe('ok');
  expect(await a2.subscribe('agent/a2')).toBe('ok');
  return { a1, a2, c1: await party(s, 'customer', 'c1') };
}

describe('service end to end', () => {
  it('offer → accept → chat both ways → complete, which frees the unit for the next request', async () => {
    const s = await server();
    await s.ingest(agentOnline('on-a1', 'a1', 5));
    const a1 = await party(s, 'agent', 'a1');
    expect(await a1.subscribe('agent/a1')).toBe('ok');
    const c1 = await party(s, 'customer', 'c1');

    expect(await c1.client.send(requested('rq-r1', 'r1', 'c1'))).toMatchObject({ ok: true, status: 'offered' });
    expect(await c1.subscribe('request/r1')).toBe('ok');
    const offer = await a1.update('agent/a1', { type: 'offer', request: 'r1' });
    expect(offer).toMatchObject({ channel: 'chat', topic: 'billing', customer: { id: 'c1', tier: 'standard' } });
    expect(typeof offer.expiresAt).toBe('number');

    expect(await a1.accept('r1')).toMatchObject({ ok: true, status: 'assigned', agent: 'a1' });
    await a1.update('agent/a1', { type: 'assigned', request: 'r1' });
    await c1.update('request/r1', { type: 'status', status: 'assigned', agent: 'a1' });
    expect(await a1.subscribe('request/r1')).toBe('ok');

    let marks = [c1.mark, a1.mark];
    expect(await c1.say('r1', 'my invoice is wrong')).toMatchObject({ ok: true });
    for (const [side, from] of [[c1, marks[0]], [a1, marks[1]]] as const) {
      await side.update('request/r1', { type: 'message', from: 'customer', text: 'my invoice is wrong' }, from);
    }
    marks = [c1.mark, a1.mark];
    expect(await a1.say('r1', 'let me fix that')).toMatchObject({ ok: true });
    for (const [side, from] of [[c1, marks[0]], [a1, marks[1]]] as const) {
      await side.update('request/r1', { type: 'message', from: 'agent', text: 'let me fix that' }, from);
    }

    // The agent's only chat unit is taken: the next request waits.
    const c2 = await party(s, 'customer', 'c2');
    expect(await c2.client.send(requested('rq-r2', 'r2', 'c2'))).toMatchObject({ ok: true, status: 'queued' });
    expect(await c2.subscribe('request/r2')).toBe('ok');

    const mark = a1.mark;
    expect(await a1.complete('r1')).toMatchObject({ ok: true, status: 'completed' });
    await c1.update('request/r1', { type: 'status', status: 'completed' });
    await a1.update('agent/a1', { type: 'offer', request: 'r2' }, mark);
    await c2.update('request/r2', { type: 'status', status: 'offered' });
    // No longer its request: the completion is the last it hears of it, and the subscription
    // ends quietly — an end with its reason, not an error.
    await a1.update('request/r1', { type: 'status', status: 'completed' }, mark);
    expect(await a1.ended('request/r1', mark)).toBe('completed');
    expect(a1.inbox.items.slice(mark).filter((i) => i.kind === 'error')).toEqual([]);
  });

  it('decline → the next agent gets the offer, and the decliner is not offered it again', async () => {
    const s = await server();
    const { a1, a2, c1 } = await twoDesksAndACustomer(s);

    await c1.client.send(requested('rq-r1', 'r1', 'c1'));
    // The higher skill level wins.
    await a1.update('agent/a1', { type: 'offer', request: 'r1' });
    expect(await a1.decline('r1')).toMatchObject({ ok: true, status: 'offered' });
    await a2.update('agent/a2', { type: 'offer', request: 'r1' });
    expect(await a2.accept('r1')).toMatchObject({ ok: true, agent: 'a2' });
    expect(await offersOf(a1, 'r1')).toBe(1);
    await expect(a1.accept('r1')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('timeout → the offer is revoked and goes to the next agent', async () => {
    const clock = new ManualClock();
    const s = await server({ service: { offerTimeoutMs: 1000 }, clock });
    const { a1, a2, c1 } = await twoDesksAndACustomer(s);

    await c1.client.send(requested('rq-r1', 'r1', 'c1'));
    const offer = await a1.update('agent/a1', { type: 'offer', request: 'r1' });
    expect(offer.expiresAt).toBe(clock.now() + 1000);
    clock.advance(1000);
    await s.engine.runDueTimers();
    await a1.update('agent/a1', { type: 'revoked', request: 'r1', reason: 'timeout' });
    await a2.update('agent/a2', { type: 'offer', request: 'r1' });
    await expect(a1.accept('r1')).rejects.toMatchObject({ code: 'no_offer' });
    expect(await a2.accept('r1')).toMatchObject({ ok: true, agent: 'a2' });
  });
});

describe('desk presence', () => {
  it("the last desk closing starts the grace; after it the agent's request is offered to another agent", async () => {
    const clock = new ManualClock();
    const s = await server({ service: { graceMs: 5000 }, clock });
    await s.ingest(agentOnline('on-a1', 'a1', 9), agentOnline('on-a2', 'a2', 5));
    const desk1 = await party(s, 'agent', 'a1');
    const desk2 = await party(s, 'agent', 'a1');
    const a2 = await party(s, 'agent', 'a2');
    expect(await desk1.subscribe('agent/a1')).toBe('ok');
    expect(await a2.subscribe('agent/a2')).toBe('ok');
    const c1 = await party(s, 'customer', 'c1');
    await c1.client.send(requested('rq-r1', 'r1', 'c1'));
    await desk1.update('agent/a1', { type: 'offer', request: 'r1' });
    await desk1.accept('r1');
    expect(await c1.subscribe('request/r1')).toBe('ok');

    // One of two desks closes: the agent is still there, however long it takes.
    await desk2.close();
    await s.engine.idle();
    clock.advance(60_000);
    await s.engine.runDueTimers();
    expect((await s.get('/v1/requests/r1', 'supervisor')).body).toMatchObject({ status: 'assigned', agent: 'a1' });

    // The last one closes: nothing moves during the grace ...
    await desk1.close();
    await s.engine.idle();
    clock.advance(4999);
    await s.engine.runDueTimers();
    expect((await s.get('/v1/requests/r1', 'supervisor')).body).toMatchObject({ status: 'assigned', agent: 'a1' });
    // ... and once it is over the request is re-queued and offered to the other agent.
    clock.advance(1);
    await s.engine.runDueTimers();
    await c1.update('request/r1', { type: 'status', status: 'offered' });
    await a2.update('agent/a2', { type: 'offer', request: 'r1' });
    expect(await a2.accept('r1')).toMatchObject({ ok: true, agent: 'a2' });
    await c1.update('request/r1', { type: 'status', status: 'assigned', agent: 'a2' });
  });

  it('a desk that comes back within the grace keeps its work', async () => {
    const clock = new ManualClock();
    const s = await server({ service: { graceMs: 5000 }, clock });
    await s.ingest(agentOnline('on-a1', 'a1', 9), requested('rq-r1', 'r1', 'c1'), { id: 'acc-r1', type: 'service.accepted', request: 'r1', agent: 'a1' });
    const desk = await party(s, 'agent', 'a1');
    await s.engine.idle();
    await desk.close();
    await s.engine.idle();
    clock.advance(3000);
    const back = await party(s, 'agent', 'a1');
    expect(await back.subscribe('request/r1')).toBe('ok');
    await s.engine.idle();
    clock.advance(10_000);
    await s.engine.runDueTimers();
    expect((await s.get('/v1/requests/r1', 'supervisor')).body).toEqual({ request: 'r1', status: 'assigned', agent: 'a1' });
  });

  it('after a restart, agents whose desks do not come back get their grace, then go offline', async () => {
    const clock = new ManualClock();
    const first = await server({ service: { graceMs: 5000 }, clock });
    await first.ingest(agentOnline('on-a1', 'a1', 9), requested('rq-r1', 'r1', 'c1'), { id: 'acc-r1', type: 'service.accepted', request: 'r1', agent: 'a1' });
    const desk = await party(first, 'agent', 'a1');
    await first.engine.idle();
    // A shutdown sends no disconnects (the desks are still there as far as anyone knows) ...
    await first.stop(true);
    await desk.close();

    // ... the next start gives every online agent its grace.
    const second = await server({ service: { graceMs: 5000 }, clock }, first.dataDir);
    await second.engine.idle();
    expect((await second.get('/v1/requests/r1', 'supervisor')).body).toMatchObject({ status: 'assigned', agent: 'a1' });
    clock.advance(5000);
    await second.engine.runDueTimers();
    expect((await second.get('/v1/requests/r1', 'supervisor')).body).toEqual({ request: 'r1', status: 'queued', position: 1 });
  });
});

describe('service permissions over WebSocket', () => {
  it('agents read their own topic and assigned requests only; customers their own requests', async () => {
    const s = await server();
    await s.ingest(agentOnline('on-a1', 'a1', 9), agentOnline('on-a2', 'a2', 5));
    const a1 = await party(s, 'agent', 'a1');
    const a2 = await party(s, 'agent', 'a2');
    const c1 = await party(s, 'customer', 'c1');
    const c2 = await party(s, 'customer', 'c2');
    expect(await a1.subscribe('agent/a2')).toBe('forbidden');
    expect(await a1.subscribe('agent/a1')).toBe('ok');
    await c1.client.send(requested('rq-r1', 'r1', 'c1'));
    await a1.update('agent/a1', { type: 'offer', request: 'r1' });
    await a1.accept('r1');

    expect(await a2.subscribe('request/r1')).toBe('forbidden');
    expect(await a2.subscribe('request/no-such')).toBe('forbidden');
    expect(await a2.subscribe('queue/billing')).toBe('ok');
    expect(await c2.subscribe('request/r1')).toBe('forbidden');
    expect(await c2.subscribe('agent/a1')).toBe('forbidden');
    expect(await c2.subscribe('queue/billing')).toBe('forbidden');
    expect(await c1.subscribe('request/r1')).toBe('ok');
    expect(await a1.subscribe('request/r1')).toBe('ok');

    // Sends: on requests that are not theirs, for other agents, or presence, which is the gateway's.
    await expect(a2.say('r1', 'hi')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(a2.complete('r1')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(c2.say('r1', 'hi')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(c1.accept('r1')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(c1.client.send(requested('rq-x', 'rx', 'c2'))).rejects.toMatchObject({ code: 'forbidden' });
    for (const type of ['agent.connected', 'agent.disconnected']) {
      await expect(a1.client.send({ id: `a1-${type}`, type, agent: 'a1' })).rejects.toMatchObject({ code: 'forbidden' });
    }
    // A desk signs only its own agent on and off.
    await expect(a1.client.send({ id: 'a1-offline-a2', type: 'agent.offline', agent: 'a2' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(a1.client.send(agentOnline('a1-online-a2', 'a2', 9))).rejects.toMatchObject({ code: 'forbidden' });
    await expect(a1.client.send({ id: 'a1-decline-for-a2', type: 'service.declined', request: 'r1', agent: 'a2' })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it("reassignment ends the old agent's request subscription (unassigned); the new agent reads it", async () => {
    const s = await server();
    const { a1, a2, c1 } = await twoDesksAndACustomer(s);
    await c1.client.send(requested('rq-r1', 'r1', 'c1'));
    await a1.update('agent/a1', { type: 'offer', request: 'r1' });
    await a1.accept('r1');
    expect(await a1.subscribe('request/r1')).toBe('ok');
    expect(await c1.subscribe('request/r1')).toBe('ok');

    const mark = a1.mark;
    await s.ingest({ id: 'off-a1', type: 'agent.offline', agent: 'a1' });
    await a1.update('agent/a1', { type: 'revoked', request: 'r1', reason: 'offline' }, mark);
    await a1.update('request/r1', { type: 'status', status: 'offered' }, mark);
    expect(await a1.ended('request/r1', mark)).toBe('unassigned');

    await a2.update('agent/a2', { type: 'offer', request: 'r1' });
    await a2.accept('r1');
    expect(await a2.subscribe('request/r1')).toBe('ok');
    const a2Mark = a2.mark;
    await c1.say('r1', 'anyone there?');
    await a2.update('request/r1', { type: 'message', text: 'anyone there?' }, a2Mark);
    await a1.client.ping();
    expect(a1.inbox.items.slice(mark).filter((i) => i.topic === 'request/r1' && i.data?.type === 'message')).toEqual([]);
    expect(await a1.subscribe('request/r1')).toBe('forbidden');
  });
});
