// The router's rules one by one, on a pure view: eligibility, choice of agent and ties, queue
// order with aging, offers and their answers (accept, decline, timeout). The request lifecycle
// around them is in service-lifecycle.test.ts.

import { beforeEach, describe, expect, it } from 'vitest';
import { ServiceRunner } from './service-harness.ts';

let r: ServiceRunner;

beforeEach(() => {
  r = new ServiceRunner();
});

describe('eligibility', () => {
  it('offers only to an online, available agent skilled in the topic with room on the channel', () => {
    r.online('away', { billing: 9 });
    r.ok({ type: 'agent.status', agent: 'away', status: 'away' });
    r.online('gone', { billing: 9 });
    r.ok({ type: 'agent.offline', agent: 'gone' });
    r.online('other-topic', { returns: 10 });
    r.online('no-voice', { billing: 9 }, { chat: 3 });
    r.online('ok', { billing: 1 }, { voice: 1 });
    r.request('q1', { channel: 'voice' });
    expect(r.offeredTo('q1')).toBe('ok');
  });

  it('requires the request language when given, any agent otherwise', () => {
    r.online('en', { billing: 9 }, { chat: 1 }, ['en']);
    r.online('de', { billing: 2 }, { chat: 1 }, ['de', 'fr']);
    r.request('q1', { language: 'fr' });
    expect(r.offeredTo('q1')).toBe('de');
    r.request('q2');
    expect(r.offeredTo('q2')).toBe('en');
    r.request('q3', { language: 'it' });
    expect(r.req('q3').status).toBe('queued');
  });

  it('uses the profile language when the request gives none', () => {
    r.online('en', { billing: 9 }, { chat: 1 }, ['en']);
    r.online('de', { billing: 2 }, { chat: 1 }, ['de']);
    r.ok({ type: 'customer.profile', customer: 'cust-q1', tier: 'standard', language: 'de' });
    r.request('q1');
    expect(r.offeredTo('q1')).toBe('de');
  });

  it('routes a store-desk request only to agents that declare store capacity', () => {
    r.online('chatter', { billing: 10 }, { chat: 5, voice: 1, email: 5, social: 5 });
    r.request('q1', { channel: 'store' });
    expect(r.req('q1').status).toBe('queued');
    r.online('desk', { billing: 1 }, { store: 1 });
    expect(r.offeredTo('q1')).toBe('desk');
  });

  it('counts capacity per channel: a full chat agent still takes a voice call', () => {
    r.online('a', { billing: 5 }, { chat: 1, voice: 1 });
    r.request('c1');
    r.request('c2');
    r.request('v1', { channel: 'voice' });
    expect([r.offeredTo('c1'), r.offeredTo('c2'), r.offeredTo('v1')]).toEqual(['a', undefined, 'a']);
    expect(r.ag('a').load).toEqual([1, 1, 0, 0, 0]);
  });
});

describe('choice of agent', () => {
  it('highest skill level wins', () => {
    r.online('low', { billing: 3 });
    r.online('high', { billing: 8 });
    r.online('mid', { billing: 5 });
    r.request('q1');
    expect(r.offeredTo('q1')).toBe('high');
  });

  it('at equal level, the longest idle since its last assignment ended wins', () => {
    r.online('a', { billing: 5 });
    r.now += 10;
    r.online('b', { billing: 5 });
    r.now += 10;
    r.request('q1');
    expect(r.offeredTo('q1')).toBe('a');
    r.accept('q1', 'a');
    r.now += 10;
    r.complete('q1'); // a's idle clock restarts: b has now been idle longer
    r.request('q2');
    expect(r.offeredTo('q2')).toBe('b');
  });

  it('at equal level and idle time, the smaller agent id wins', () => {
    r.online('m', { billing: 5 });
    r.online('k', { billing: 5 });
    r.online('z', { billing: 5 });
    r.request('q1');
    expect(r.offeredTo('q1')).toBe('k');
  });

  it('an agent with an open offer keeps its capacity reserved: no second offer beyond it', () => {
    r.online('one', { billing: 9 }, { chat: 1 });
    r.online('two', { billing: 5 }, { chat: 2 });
    r.request('q1');
    r.request('q2');
    r.request('q3');
    r.request('q4');
    expect([r.offeredTo('q1'), r.offeredTo('q2'), r.offeredTo('q3'), r.offeredTo('q4')]).toEqual(['one', 'two', 'two', undefined]);
  });
});

describe('queue order', () => {
  /** Queues the given requests (no agent), then lets one agent take them one at a time. */
  function served(ids: string[]): string[] {
    r.online('a', { billing: 5 });
    const order: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = r.ag('a').offers[0];
      order.push(id);
      r.accept(id, 'a');
      r.complete(id);
    }
    return order;
  }

  it('VIP before standard, then higher priority, then longest waiting; ties by request id', () => {
    r.ok({ type: 'customer.profile', customer: 'vip-1', tier: 'vip' });
    r.request('std-p0-old');
    r.now += 1;
    r.request('std-p5', { priority: 5 });
    r.request('std-p0-b');
    r.request('std-p0-a');
    r.request('vip', { subject: 'vip-1' });
    expect(served(['', '', '', '', ''])).toEqual(['vip', 'std-p5', 'std-p0-old', 'std-p0-a', 'std-p0-b']);
  });

  it('aging: one priority point per agingMs of waiting, so an old low-priority request overtakes', () => {
    r = new ServiceRunner({ agingMs: 1000, slaMs: 10 ** 9 });
    r.request('old', { priority: 0 });
    r.now += 3001;
    r.request('fresh', { priority: 3 }); // 3 points, 3001 ms younger: behind by 1 ms of aging
    expect(served(['', ''])).toEqual(['old', 'fresh']);
  });

  it.each([
    [20_999, ['vip', 'old']],
    [21_001, ['old', 'vip']],
  ])('aging: a standard request waiting %i ms vs a fresh VIP priority 10 (21 points × agingMs)', (waited, order) => {
    r = new ServiceRunner({ agingMs: 1000, slaMs: 10 ** 9 });
    r.ok({ type: 'customer.profile', customer: 'vip-1', tier: 'vip' });
    r.request('old');
    r.now += waited;
    r.request('vip', { subject: 'vip-1', priority: 10 });
    expect(served(['', ''])).toEqual(order);
  });
});

describe('offers', () => {
  it('go to agent/<id> with expiresAt and the customer context; the request says offered', () => {
    r.ok({ type: 'customer.profile', customer: 'c1', tier: 'vip', language: 'en' });
    r.online('a', { billing: 5, returns: 5 }, { chat: 2, email: 1 }, ['en']);
    r.request('old', { subject: 'c1', channel: 'email', topic: 'returns' });
    r.accept('old', 'a');
    r.complete('old');
    r.request('open', { subject: 'c1', channel: 'email', topic: 'returns' });
    r.clearMessages();
    r.request('q1', { subject: 'c1', priority: 4 });
    const offer = r.on('agent/a').at(-1);
    expect(offer).toEqual({
      type: 'offer',
      request: 'q1',
      channel: 'chat',
      topic: 'billing',
      priority: 4,
      expiresAt: r.now + 15_000,
      customer: {
        // From the customer domain: its ids, latest activity and orders (none here).
        ids: ['c1'],
        activity: [],
        orders: [],
        id: 'c1',
        tier: 'vip',
        language: 'en',
        open: [{ request: 'open', channel: 'email', topic: 'returns', status: 'offered', enqueuedAt: r.now }],
        past: [{ request: 'old', channel: 'email', topic: 'returns', status: 'completed', enqueuedAt: r.now, agent: 'a', completedAt: r.now }],
      },
    });
    expect(r.on('request/q1')).toEqual([{ type: 'status', request: 'q1', status: 'offered' }]);
    expect(r.timers.get('offer/q1')).toMatchObject({ at: r.now + 15_000 });
  });

  it('take the customer domain hooks into the customer object', () => {
    r = new ServiceRunner({
      resolveCustomer: (_view, subject) => subject.replace(/^phone:/, ''),
      customerContext: (_view, customer) => ({ identities: [`phone:${customer}`], orders: [] }),
    });
    r.online('a', { billing: 5 });
    r.request('q1', { subject: 'phone:c7' });
    expect(r.on('agent/a')[0].customer).toMatchObject({ id: 'c7', identities: ['phone:c7'], orders: [] });
    expect(r.req('q1').customer).toBe('c7');
  });

  it('accept → assigned on agent/<id> and request/<id>; the timers end', () => {
    r.online('a', { billing: 5 });
    r.request('q1');
    r.clearMessages();
    expect(r.accept('q1', 'a').result).toEqual({ ok: true, request: 'q1', agent: 'a', status: 'assigned' });
    expect(r.on('agent/a')).toEqual([{ type: 'assigned', request: 'q1', channel: 'chat', topic: 'billing', customer: 'cust-q1' }]);
    expect(r.on('request/q1')).toEqual([{ type: 'status', request: 'q1', status: 'assigned', agent: 'a' }]);
    expect(r.ag('a')).toMatchObject({ load: [1, 0, 0, 0, 0], offers: [], assigned: ['q1'] });
    expect([...r.timers.keys()]).toEqual([]);
    expect(r.advance(60_000)).toBe(0);
  });

  it('decline → the next agent, keeping the original waiting time; never the same agent twice in a row', () => {
    r.online('a', { billing: 9 });
    r.online('b', { billing: 5 });
    r.request('q1');
    const rank = r.req('q1').rank;
    expect(r.offeredTo('q1')).toBe('a');
    r.decline('q1', 'a');
    expect(r.offeredTo('q1')).toBe('b');
    expect(r.req('q1')).toMatchObject({ rank, enqueuedAt: 1_000_000, lastAgent: 'a' });
    expect(r.ag('a').load[0]).toBe(0);
    r.decline('q1', 'b');
    expect(r.offeredTo('q1')).toBe('a');
    r.decline('q1', 'a');
    expect(r.offeredTo('q1')).toBe('b');
  });

  it('a declined request waits rather than going straight back to the only agent', () => {
    r.online('a', { billing: 9 });
    r.request('q1');
    r.decline('q1', 'a');
    expect(r.req('q1').status).toBe('queued');
    r.request('q2');
    expect(r.offeredTo('q2')).toBe('a');
    r.online('b', { billing: 1 });
    expect(r.offeredTo('q1')).toBe('b');
  });

  it('after its SLA breach a declined request may go back to the only agent, instead of waiting forever', () => {
    r.online('a', { billing: 9 });
    r.request('q1');
    r.decline('q1', 'a');
    expect(r.req('q1').status).toBe('queued');
    r.advance(30_000);
    expect(r.offeredTo('q1')).toBe('a');
  });

  it('an offer moved on because its agent went offline is not a refusal: back online, the agent gets it', () => {
    r.online('a', { billing: 9 });
    r.request('q1');
    expect(r.offeredTo('q1')).toBe('a');
    r.ok({ type: 'agent.offline', agent: 'a' });
    expect(r.req('q1').status).toBe('queued');
    r.online('a', { billing: 9 });
    expect(r.offeredTo('q1')).toBe('a');
  });

  it('timeout (a durable timer) → revoked on the agent topic, the next agent gets it', () => {
    r.online('a', { billing: 9 });
    r.online('b', { billing: 5 });
    r.request('q1');
    r.clearMessages();
    r.advance(14_999);
    expect(r.offeredTo('q1')).toBe('a');
    r.advance(1);
    expect(r.on('agent/a')).toEqual([{ type: 'revoked', request: 'q1', reason: 'timeout' }]);
    expect(r.offeredTo('q1')).toBe('b');
    expect(r.on('agent/b')[0]).toMatchObject({ type: 'offer', request: 'q1', expiresAt: r.now + 15_000 });
  });

  it('a stale offer timer (answered or re-offered since) does nothing', () => {
    r.online('a', { billing: 9 });
    r.online('b', { billing: 5 });
    r.request('q1');
    const stale = r.timers.get('offer/q1')!;
    r.decline('q1', 'a'); // re-offered to b: the timer id is reused with a new time
    const effects = r.processor.onTimer(r.view, stale, { now: stale.at, eventTime: stale.at });
    expect(effects.writes).toEqual([]);
    expect(effects.messages).toBeUndefined();
    expect(effects.timers).toBeUndefined();
  });

  it('a custom offerTimeoutMs sets expiresAt and the timer', () => {
    r = new ServiceRunner({ offerTimeoutMs: 500 });
    r.online('a', { billing: 9 });
    r.request('q1');
    expect(r.req('q1').offer).toEqual({ agent: 'a', expiresAt: r.now + 500 });
  });
});
