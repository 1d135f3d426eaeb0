// The request lifecycle on a pure view: the errors that keep capacity from being counted twice,
// completion, SLA, queue stats and positions, presence (offline, desk grace, away), continuity,
// chat and validation.

import { beforeEach, describe, expect, it } from 'vitest';
import { onlineAgents, renderQueues } from '../engine/service/mod.ts';
import { entries } from '../engine/service/ranked-list.ts';
import { ServiceRunner, code } from './service-harness.ts';

let r: ServiceRunner;

beforeEach(() => {
  r = new ServiceRunner();
});

describe('capacity is never counted twice', () => {
  beforeEach(() => {
    r.online('a', { billing: 9 }, { chat: 2 });
    r.online('b', { billing: 5 }, { chat: 2 });
    r.request('q1');
  });

  it('accept after the timeout: no_offer', () => {
    r.advance(15_000);
    r.rejects({ type: 'service.accepted', request: 'q1', agent: 'a' }, 'no_offer');
    expect(r.ag('a').load[0]).toBe(0);
  });

  it('accept after expiresAt but before its timer ran: no_offer', () => {
    r.now += 15_000;
    r.rejects({ type: 'service.accepted', request: 'q1', agent: 'a' }, 'no_offer');
  });

  it('a second accept: conflict', () => {
    r.accept('q1', 'a');
    r.rejects({ type: 'service.accepted', request: 'q1', agent: 'a' }, 'conflict');
    r.rejects({ type: 'service.accepted', request: 'q1', agent: 'b' }, 'conflict');
    expect(r.ag('a').load[0]).toBe(1);
  });

  it('accept of a declined or revoked offer, or by an agent never offered it: no_offer', () => {
    r.rejects({ type: 'service.accepted', request: 'q1', agent: 'b' }, 'no_offer');
    r.decline('q1', 'a');
    r.rejects({ type: 'service.accepted', request: 'q1', agent: 'a' }, 'no_offer');
    r.rejects({ type: 'service.declined', request: 'q1', agent: 'a' }, 'no_offer');
    r.ok({ type: 'agent.offline', agent: 'b' });
    r.rejects({ type: 'service.accepted', request: 'q1', agent: 'b' }, 'no_offer');
    expect(r.ag('b').load).toEqual([0, 0, 0, 0, 0]);
  });

  it('unknown requests and agents: not_found; completed twice: conflict', () => {
    r.rejects({ type: 'service.accepted', request: 'nope', agent: 'a' }, 'not_found');
    r.rejects({ type: 'agent.status', agent: 'nope', status: 'away' }, 'not_found');
    r.rejects({ type: 'service.completed', request: 'nope' }, 'not_found');
    r.rejects({ type: 'service.message', request: 'nope', from: 'agent', text: 'x' }, 'not_found');
    r.complete('q1');
    r.rejects({ type: 'service.completed', request: 'q1' }, 'conflict');
    r.rejects({ type: 'service.message', request: 'q1', from: 'agent', text: 'x' }, 'conflict');
    r.rejects({ type: 'service.requested', request: 'q1', subject: 's', channel: 'chat', topic: 'billing' }, 'conflict');
  });
});

describe('completion', () => {
  it('frees the unit, starts the idle clock and gives the agent its next request', () => {
    r.online('a', { billing: 9 });
    r.request('q1');
    r.request('q2');
    r.accept('q1', 'a');
    r.now += 50;
    r.complete('q1');
    expect(r.req('q1')).toMatchObject({ status: 'completed', completedAt: r.now });
    expect(r.ag('a')).toMatchObject({ idleSince: r.now, assigned: [], offers: ['q2'], load: [1, 0, 0, 0, 0] });
    expect(r.offeredTo('q2')).toBe('a');
  });

  it('of a queued or offered request takes it out of the queue and frees the offer', () => {
    r.online('a', { billing: 9 });
    r.request('q1');
    r.request('q2');
    r.complete('q2');
    expect(r.render('queue/billing')).toMatchObject({ waiting: 0, offered: 1 });
    r.clearMessages();
    r.complete('q1');
    expect(r.on('agent/a')).toEqual([{ type: 'revoked', request: 'q1', reason: 'completed' }]);
    expect(r.ag('a')).toMatchObject({ offers: [], load: [0, 0, 0, 0, 0] });
    expect([...r.timers.keys()]).toEqual([]);
  });
});

describe('SLA', () => {
  it('unassigned after slaMs: alert, counted, and offered without the language', () => {
    r.online('en', { billing: 9 }, { chat: 1 }, ['en']);
    r.request('q1', { language: 'de' });
    r.clearMessages();
    r.advance(29_999);
    expect(r.on('alerts/service')).toEqual([]);
    r.advance(1);
    expect(r.on('alerts/service')).toEqual([{ type: 'sla', request: 'q1', topic: 'billing', channel: 'chat', waitedMs: 30_000, language: 'de' }]);
    expect(r.offeredTo('q1')).toBe('en');
    expect(r.render('queue/billing')).toMatchObject({ slaBreaches: 1 });
  });

  it('an assigned request never breaches; a breach happens once', () => {
    r.online('a', { billing: 9 });
    r.request('q1');
    r.accept('q1', 'a');
    r.request('q2');
    r.advance(30_000);
    r.advance(30_000);
    expect(r.on('alerts/service').map((a) => a.request)).toEqual(['q2']);
  });

  it('honours a custom slaMs', () => {
    r = new ServiceRunner({ slaMs: 100 });
    r.request('q1');
    r.advance(100);
    expect(r.req('q1').breached).toBe(true);
  });
});

describe('queue stats on queue/<topic>', () => {
  it('waiting, offered, longest wait at the last change, agents available and eligible, breaches', () => {
    r.online('a', { billing: 9 }, { chat: 1 });
    r.online('b', { billing: 5, returns: 1 }, { chat: 1 });
    r.ok({ type: 'agent.status', agent: 'b', status: 'away' });
    expect(r.render('queue/billing')).toMatchObject({ waiting: 0, offered: 0, longestWaitMs: 0, agentsAvailable: 1, agentsEligible: 1 });
    r.request('q1');
    r.now += 1000;
    r.request('q2');
    r.now += 500;
    r.request('q3', { channel: 'voice' });
    expect(r.render('queue/billing')).toEqual({
      topic: 'billing',
      waiting: 2,
      offered: 1,
      longestWaitMs: 500,
      asOf: r.now,
      agentsAvailable: 1,
      agentsEligible: 0,
      slaBreaches: 0,
    });
    expect(r.render('queue/returns')).toMatchObject({ agentsAvailable: 0 });
    expect(r.render('queue/nothing')).toBeUndefined();
  });

  it('request/<id> renders status, position and parties; queues list every topic', () => {
    r = new ServiceRunner({ resolveCustomer: (_view, subject) => subject.replace(/^phone:/, '') });
    r.online('a', { billing: 5 });
    r.request('q1', { subject: 'phone:c1' });
    r.request('q2', { subject: 'c2', topic: 'returns' });
    r.request('q3', { subject: 'c3', topic: 'returns' });
    expect(r.render('request/q1')).toEqual({ request: 'q1', status: 'offered', customer: 'c1', subject: 'phone:c1' });
    r.accept('q1', 'a');
    expect(r.render('request/q1')).toMatchObject({ status: 'assigned', agent: 'a' });
    expect(r.render('request/q3')).toMatchObject({ status: 'queued', position: 2 });
    r.complete('q2');
    expect(r.render('request/q3')).toMatchObject({ position: 1 });
    expect(r.render('request/nope')).toBeUndefined();
    expect(Object.keys(renderQueues(r.view))).toEqual(['billing', 'returns']);
    expect(renderQueues(r.view).returns).toMatchObject({ waiting: 1 });
  });

  it('the request status carries the position within its lane, 1 = next', () => {
    r.request('q1');
    r.request('q2', { priority: 5 });
    r.request('q3');
    const statusOf = (id: string) => r.on(`request/${id}`).find((m) => m.type === 'status');
    // No agent online: no wait can be predicted (engine/service/bot/predicted-wait.ts).
    expect(statusOf('q1')).toEqual({ type: 'status', request: 'q1', status: 'queued', position: 1, predictedWaitMs: null });
    expect(statusOf('q2')).toMatchObject({ position: 1 });
    expect(statusOf('q3')).toMatchObject({ position: 3 });
  });

  it('pushes new positions to the first positionUpdates waiting requests of a lane when it moves', () => {
    r = new ServiceRunner({ positionUpdates: 2 });
    for (const id of ['q1', 'q2', 'q3', 'q4']) r.request(id);
    r.request('q5', { priority: 5 }); // inserted ahead of all
    expect(r.on('request/q1').at(-1)).toEqual({ type: 'position', request: 'q1', position: 2 });
    // Beyond K (positions 3, 4, 5): nothing pushed; GET has the live position.
    expect(r.on('request/q2').filter((m) => m.type === 'position')).toEqual([]);
    expect(r.render('request/q2')).toMatchObject({ position: 3 });
    r.clearMessages();
    r.online('a', { billing: 5 }); // q5 leaves the queue: q1 back to 1, q2 enters the top 2
    expect(r.on('request/q5').at(-1)).toMatchObject({ type: 'status', status: 'offered' });
    expect(r.on('request/q1')).toEqual([{ type: 'position', request: 'q1', position: 1 }]);
    expect(r.on('request/q2')).toEqual([{ type: 'position', request: 'q2', position: 2 }]);
    expect(r.on('request/q3')).toEqual([]);
    r.clearMessages();
    r.request('q6', { subject: 'x', topic: 'returns' }); // another lane: this one is untouched
    expect(r.messages.filter((m) => m.topic.startsWith('request/q') && m.topic !== 'request/q6')).toEqual([]);
  });
});

describe('presence', () => {
  it('offline: pending offers move on, open requests re-queued ahead of newer ones', () => {
    r.online('a', { billing: 9 }, { chat: 2 });
    r.request('mine');
    r.accept('mine', 'a');
    r.request('pending');
    r.now += 1000;
    r.ok({ type: 'customer.profile', customer: 'vip', tier: 'vip' });
    r.request('newer-vip', { subject: 'vip', priority: 10 });
    r.clearMessages();
    r.ok({ type: 'agent.offline', agent: 'a' });
    expect(r.on('agent/a')).toEqual([
      { type: 'revoked', request: 'pending', reason: 'offline' },
      { type: 'revoked', request: 'mine', reason: 'offline' },
    ]);
    expect(r.ag('a')).toMatchObject({ online: false, load: [0, 0, 0, 0, 0], offers: [], assigned: [] });
    r.online('b', { billing: 1 }, { chat: 1 });
    expect(r.offeredTo('mine')).toBe('b');
    expect(r.req('newer-vip').status).toBe('queued');
    expect(r.req('mine').enqueuedAt).toBe(1_000_000);
  });

  it('the last desk connection closing starts a grace; offline when it ends, unless reconnected', () => {
    r.online('a', { billing: 9 });
    r.request('q1');
    r.ok({ type: 'agent.disconnected', agent: 'a' });
    r.advance(9_999);
    expect(r.ag('a').online).toBe(true);
    r.ok({ type: 'agent.connected', agent: 'a' });
    r.advance(60_000);
    expect(r.ag('a').online).toBe(true);
    r.ok({ type: 'agent.disconnected', agent: 'a' });
    r.advance(10_000);
    expect(r.ag('a').online).toBe(false);
    expect(r.req('q1').status).toBe('queued');
  });

  it('lists the agents online, for the gateway to start their grace after a restart', () => {
    r.online('b', { billing: 9 });
    r.online('a', { billing: 9 });
    r.online('c', { billing: 9 });
    r.ok({ type: 'agent.offline', agent: 'b' });
    r.online('a', { billing: 2 });
    expect(onlineAgents(r.view)).toEqual(['a', 'c']);
  });

  it('away keeps its offers (it may still accept) but gets no new ones; available again picks up work', () => {
    r.online('a', { billing: 9 }, { chat: 2 });
    r.request('q1');
    r.ok({ type: 'agent.status', agent: 'a', status: 'away' });
    r.request('q2');
    expect(r.req('q2').status).toBe('queued');
    expect(code(r.accept('q1', 'a'))).toBe('ok');
    r.ok({ type: 'agent.status', agent: 'a', status: 'available' });
    expect(r.offeredTo('q2')).toBe('a');
  });

  it('online again after offline starts fresh; online while online keeps load and status', () => {
    r.online('a', { billing: 9 }, { chat: 2 });
    r.request('q1');
    r.accept('q1', 'a');
    r.ok({ type: 'agent.status', agent: 'a', status: 'away' });
    r.online('a', { billing: 9, returns: 3 }, { chat: 2 });
    expect(r.ag('a')).toMatchObject({ status: 'away', load: [1, 0, 0, 0, 0], assigned: ['q1'], topics: ['billing', 'returns'] });
  });
});

describe('continuity', () => {
  it("a customer's new request on the same topic joins the open one and goes to its agent", () => {
    r.online('a', { billing: 5 }, { chat: 1, email: 1 });
    r.online('b', { billing: 9 }, { chat: 5, email: 5 });
    r.request('first', { subject: 'c1' });
    r.decline('first', 'b');
    r.accept('first', 'a');
    const answer = r.request('second', { subject: 'c1', channel: 'email' });
    expect(answer.result).toMatchObject({ status: 'offered', conversation: 'first' });
    expect(r.offeredTo('second')).toBe('a');
    expect(r.on('agent/a').at(-1)).toMatchObject({ type: 'offer', request: 'second', conversation: 'first' });
  });

  it('goes to the best other agent when that agent cannot take it; other topics do not join', () => {
    r.online('a', { billing: 5 }, { chat: 1 });
    r.online('b', { billing: 9, returns: 9 }, { chat: 5 });
    r.request('first', { subject: 'c1' });
    r.decline('first', 'b');
    r.accept('first', 'a');
    r.request('second', { subject: 'c1' });
    expect(r.req('second')).toMatchObject({ conversation: 'first', preferredAgent: 'a' });
    expect(r.offeredTo('second')).toBe('b');
    r.request('third', { subject: 'c1', topic: 'returns' });
    expect(r.req('third').conversation).toBeUndefined();
  });

  it("waits for its agent when no one is free, and that agent's next free unit takes it first", () => {
    // The contract: "goes to the same agent when that agent can take it". A free other agent
    // takes it at once (above); with none free it waits, and the agent it prefers, once it frees
    // a unit, takes it before older requests of the queue.
    r.online('a', { billing: 5 }, { chat: 1 });
    r.request('first', { subject: 'c1' });
    r.accept('first', 'a');
    r.request('older', { subject: 'c2', priority: 5 });
    r.request('second', { subject: 'c1' });
    expect(r.req('second')).toMatchObject({ status: 'queued', preferredAgent: 'a' });
    r.complete('first');
    expect(r.offeredTo('second')).toBe('a');
    expect(r.req('older').status).toBe('queued');
    // It left the queue by that offer, so it no longer waits for a: a's next unit goes by queue order.
    expect(entries(r.view, 'svc/pref/a')).toEqual([]);
    r.decline('second', 'a');
    expect(r.offeredTo('older')).toBe('a');
  });

  it('the agent list of waiting requests follows every way out of the queue', () => {
    r.online('a', { billing: 5 }, { chat: 1 });
    r.request('first', { subject: 'c1' });
    r.accept('first', 'a');
    r.request('second', { subject: 'c1' });
    r.request('third', { subject: 'c1' });
    const waiting = () => entries(r.view, 'svc/pref/a').map((e) => e.id);
    expect(waiting()).toEqual(['second', 'third']);
    r.complete('second'); // completed while queued
    expect(waiting()).toEqual(['third']);
    r.online('b', { billing: 1 }); // offered to someone else
    expect(r.offeredTo('third')).toBe('b');
    expect(waiting()).toEqual([]);
    r.decline('third', 'b'); // back in the queue, waiting for a again
    expect(waiting()).toEqual(['third']);
    r.ok({ type: 'agent.offline', agent: 'a' }); // its agent gone: first re-queued, offered to b
    expect(r.offeredTo('first')).toBe('b');
    expect(waiting()).toEqual(['third']);
    r.ok({ type: 'agent.online', agent: 'a', skills: { billing: 5 }, capacity: { chat: 1 } });
    expect(r.offeredTo('third')).toBe('a');
    expect(waiting()).toEqual([]);
  });
});

describe('chat', () => {
  it('service.message is relayed on request/<id>', () => {
    r.online('a', { billing: 5 });
    r.request('q1');
    r.accept('q1', 'a');
    r.clearMessages();
    r.ok({ type: 'service.message', request: 'q1', from: 'customer', text: 'hello' });
    r.ok({ type: 'service.message', request: 'q1', from: 'agent', text: 'hi!', ts: 5 });
    expect(r.on('request/q1')).toEqual([
      { type: 'message', request: 'q1', from: 'customer', text: 'hello', at: r.now },
      { type: 'message', request: 'q1', from: 'agent', text: 'hi!', at: 5 },
    ]);
  });
});

describe('validation', () => {
  it('refuses malformed service events', () => {
    const bad: Array<Record<string, unknown>> = [
      { type: 'agent.online', agent: 'a', skills: {}, capacity: { chat: 1 } },
      { type: 'agent.online', agent: 'a', skills: { billing: 11 }, capacity: { chat: 1 } },
      { type: 'agent.online', agent: 'a', skills: { billing: 0 }, capacity: { chat: 1 } },
      { type: 'agent.online', agent: 'a', skills: { 'x@y': 1 }, capacity: { chat: 1 } },
      { type: 'agent.online', agent: 'a', skills: [1], capacity: { chat: 1 } },
      { type: 'agent.online', agent: 'a', skills: { billing: 1 }, capacity: { fax: 1 } },
      { type: 'agent.online', agent: 'a', skills: { billing: 1 }, capacity: { chat: -1 } },
      { type: 'agent.online', agent: 'a', skills: { billing: 1 }, capacity: { chat: 1 }, languages: ['*'] },
      { type: 'agent.online', agent: 'a', skills: { billing: 1 }, capacity: { chat: 1 }, languages: 'en' },
      { type: 'agent.online', agent: 'a@b', skills: { billing: 1 }, capacity: { chat: 1 } },
      { type: 'agent.status', agent: 'a', status: 'busy' },
      { type: 'service.requested', request: 'q', subject: 's', channel: 'fax', topic: 't' },
      { type: 'service.requested', request: 'q', subject: 's', channel: 'chat', topic: 't', priority: 11 },
      { type: 'service.requested', request: 'q', subject: 's', channel: 'chat', topic: 't', priority: 1.5 },
      { type: 'service.requested', request: 'q', subject: 's', channel: 'chat', topic: 't', language: 'en/us' },
      { type: 'service.requested', request: 'q', channel: 'chat', topic: 't' },
      { type: 'service.message', request: 'q', from: 'bot', text: 'x' },
      { type: 'service.message', request: 'q', from: 'agent', text: 'x'.repeat(4001) },
      { type: 'customer.profile', customer: 'c', tier: 'gold' },
    ];
    for (const ev of bad) r.rejects(ev, 'invalid_event');
  });

  it('skills named like Object.prototype members are plain topics', () => {
    r.online('a', JSON.parse('{"__proto__": 3, "constructor": 2}'));
    r.request('q1', { topic: '__proto__' });
    r.request('q2', { topic: 'constructor' });
    r.request('q3', { topic: 'toString' });
    expect(r.ag('a').topics).toEqual(['__proto__', 'constructor']);
    expect(r.offeredTo('q1')).toBe('a');
    expect(r.req('q3').status).toBe('queued');
  });
});
