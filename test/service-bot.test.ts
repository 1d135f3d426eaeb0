// The bot on the service partition (engine/service/bot/), pure: the overflow mode switching on and
// off as the predicted wait crosses the target, the first mode (a confident answer keeps the
// request from every agent until the customer asks for one), escalation with the exchange in the
// offer's context, resolution by the bot, later customer messages, and hostile inputs.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HANDLE_MS } from '../engine/service/bot/mod.ts';
import type { ServiceOptions } from '../engine/service/mod.ts';
import type { Effects } from '../engine/types.ts';
import { code, ServiceRunner } from './service-harness.ts';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/knowledge-base.json', import.meta.url), 'utf8')) as Array<Record<string, unknown>>;

const TRACK = 'How can I track my order?';
const UNKNOWN = 'my neighbour’s cat sat on the parcel and now it smells of fish';

function runner(options: ServiceOptions): ServiceRunner {
  const run = new ServiceRunner(options);
  for (const event of FIXTURE) run.ok(event);
  run.clearMessages();
  return run;
}

const ask = (run: ServiceRunner, request: string, text?: string, extra: Record<string, unknown> = {}) =>
  run.request(request, { topic: 'orders', language: 'en', ...(text !== undefined ? { text } : {}), ...extra });

const answer = (e: Effects) => e.result as unknown as Record<string, unknown>;
const botMessages = (run: ServiceRunner, request: string) => run.on(`request/${request}`).filter((m) => m.type === 'message' && m.from === 'bot');
const offers = (run: ServiceRunner, agent: string) => run.on(`agent/${agent}`).filter((m) => m.type === 'offer');

describe('overflow mode', () => {
  it('an agent free takes the request with no bot; with every agent busy the bot answers and the request keeps its place', () => {
    const run = runner({ bot: 'overflow' });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    const first = answer(ask(run, 'r1', TRACK));
    expect(first).toMatchObject({ status: 'offered' });
    expect(first).not.toHaveProperty('bot');
    expect(first).not.toHaveProperty('predictedWaitMs');
    expect(botMessages(run, 'r1')).toEqual([]);
    const second = answer(ask(run, 'r2', TRACK));
    expect(second).toMatchObject({ status: 'queued', bot: true, predictedWaitMs: DEFAULT_HANDLE_MS });
    expect(botMessages(run, 'r2')).toEqual([{ type: 'message', request: 'r2', from: 'bot', text: expect.any(String), at: run.now, faq: 'order-status-en', score: expect.any(Number) }]);
    expect(run.req('r2').status).toBe('queued');
    // The customer kept its place: the agent's freed unit goes to it.
    run.accept('r1', 'a1');
    run.complete('r1');
    expect(run.offeredTo('r2')).toBe('a1');
  });

  it('looks again halfway to the target: a customer still waiting whose wait now looks too long is answered', () => {
    const run = runner({ bot: 'overflow', targetWaitMs: 200_000 });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    ask(run, 'busy', TRACK);
    run.accept('busy', 'a1');
    // One ahead of nobody: 180 s predicted, under the target, so no answer yet.
    expect(answer(ask(run, 'late', TRACK))).toMatchObject({ status: 'queued', predictedWaitMs: 180_000 });
    expect(botMessages(run, 'late')).toEqual([]);
    run.advance(99_999);
    expect(botMessages(run, 'late')).toEqual([]);
    // At 100 s it has waited 100 s and 180 s are still predicted: past the target.
    run.advance(1);
    expect(botMessages(run, 'late')).toMatchObject([{ from: 'bot', faq: 'order-status-en' }]);
    expect(run.req('late').status).toBe('queued');
    // Once, and not for a request a person took before then.
    run.advance(200_000);
    expect(botMessages(run, 'late')).toHaveLength(1);
    const taken = runner({ bot: 'overflow', targetWaitMs: 200_000 });
    taken.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    taken.accept(answer(ask(taken, 'busy', TRACK)).request as string, 'a1');
    ask(taken, 'soon', TRACK);
    taken.now += 50_000;
    taken.complete('busy');
    expect(taken.offeredTo('soon')).toBe('a1');
    taken.advance(100_000);
    expect(botMessages(taken, 'soon')).toEqual([]);
  });

  it('answers once the queue ahead makes the predicted wait exceed the target, and stops as it shrinks', () => {
    // Two agents of one chat each: predicted wait = (ahead + 1) × 180000 ÷ 2.
    const run = runner({ bot: 'overflow', targetWaitMs: 200_000 });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    run.online('a2', { orders: 5 }, { chat: 1 }, ['en']);
    ask(run, 'busy1', TRACK);
    ask(run, 'busy2', TRACK);
    const waits = ['q1', 'q2', 'q3'].map((id) => answer(ask(run, id, TRACK)));
    expect(waits.map((w) => w.predictedWaitMs)).toEqual([90_000, 180_000, 270_000]);
    expect(waits.map((w) => w.bot ?? false)).toEqual([false, false, true]);
    // The two busy ones end (handled in 180 s, the default mean): q1, q2 go to the agents.
    for (const id of ['busy1', 'busy2']) run.accept(id, run.offeredTo(id)!);
    run.now += DEFAULT_HANDLE_MS;
    for (const id of ['busy1', 'busy2']) run.complete(id);
    expect(run.req('q3').status).toBe('queued');
    expect(answer(ask(run, 'q4', TRACK))).toMatchObject({ predictedWaitMs: 180_000 });
    expect(botMessages(run, 'q4')).toEqual([]);
  });

  it('the mean handle time of the topic follows completions (weighted 0.2) and the predicted wait with it', () => {
    const run = runner({ bot: 'overflow' });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    ask(run, 'h1');
    run.accept('h1', 'a1');
    run.now += 60_000;
    run.complete('h1');
    expect(run.state.get('svc/handle/orders')).toBe(60_000);
    ask(run, 'h2');
    run.accept('h2', 'a1');
    run.now += 160_000;
    run.complete('h2');
    expect(run.state.get('svc/handle/orders')).toBe(80_000);
    ask(run, 'h3');
    expect(answer(ask(run, 'h4'))).toMatchObject({ status: 'queued', predictedWaitMs: 80_000 });
    // No text: nothing for the bot to answer, however long the wait.
    expect(botMessages(run, 'h4')).toEqual([]);
  });

  it('once its lane has drained under a backlog five times, the wait is the requests ahead × the mean gap between departures', () => {
    const run = runner({ bot: 'overflow' });
    // One chat at a time: capacity ÷ handle time would say 10 s per request ahead.
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    for (let i = 0; i < 8; i++) ask(run, `d${i}`);
    // Each offer waits 10 s for the agent (busy elsewhere, say), then 10 s of chat: d1 … d6 leave
    // a backlogged lane 20 s apart, while the handle time is 10 s; the first departure (d0,
    // raised into an empty lane) counts no gap.
    for (let i = 0; i < 6; i++) {
      run.now += 10_000;
      run.accept(`d${i}`, 'a1');
      run.now += 10_000;
      run.complete(`d${i}`);
    }
    expect(run.state.get('svc/handle/orders')).toBe(10_000);
    expect(run.state.get('svc/drain/svc/rl/chat/en/orders')).toMatchObject({ gapMs: 20_000, gaps: 6 });
    // d7 is queued, nothing else: a new request has one ahead.
    expect(answer(ask(run, 'd8'))).toMatchObject({ status: 'queued', predictedWaitMs: 40_000 });
  });

  it('a topic record kept from before its capacity totals: the agents are counted one by one, the same wait', () => {
    const run = runner({ bot: 'overflow' });
    run.online('a1', { orders: 5 }, { chat: 2 }, ['en']);
    run.online('a2', { orders: 5 }, { chat: 1 }, ['de']);
    for (const id of ['b1', 'b2', 'q1']) ask(run, id);
    expect(answer(ask(run, 'q2'))).toMatchObject({ predictedWaitMs: 180_000 });
    const { capacityLanguages: _l, capacities: _c, ...old } = run.state.get('svc/stats/orders') as Record<string, unknown>;
    run.state.set('svc/stats/orders', old);
    expect(answer(ask(run, 'q3'))).toMatchObject({ predictedWaitMs: 270_000 });
    // Agents changing now do not start totals that would miss the ones already counted.
    run.ok({ type: 'agent.status', agent: 'a2', status: 'away' });
    expect(run.state.get('svc/stats/orders')).not.toHaveProperty('capacities');
    expect(answer(ask(run, 'q4'))).toMatchObject({ predictedWaitMs: 360_000 });
  });

  it('a request no online agent could take has no predicted wait, and the bot answers it', () => {
    const run = runner({ bot: 'overflow' });
    expect(answer(ask(run, 'r1', TRACK))).toMatchObject({ status: 'queued', predictedWaitMs: null, bot: true });
    const status = run.on('request/r1').find((m) => m.type === 'status');
    expect(status).toMatchObject({ status: 'queued', predictedWaitMs: null, bot: true });
  });

  it('the bot not confident says so, without an entry, and the request still waits for a person', () => {
    const run = runner({ bot: 'overflow' });
    ask(run, 'r1', UNKNOWN);
    const [said] = botMessages(run, 'r1');
    expect(said).not.toHaveProperty('faq');
    expect(said.text).toMatch(/person/);
    expect(run.req('r1').status).toBe('queued');
  });

  it('voice and store requests are never answered by the bot', () => {
    const run = runner({ bot: 'overflow' });
    ask(run, 'v1', TRACK, { channel: 'voice' });
    ask(run, 's1', TRACK, { channel: 'store' });
    expect([...botMessages(run, 'v1'), ...botMessages(run, 's1')]).toEqual([]);
  });
});

describe('first mode', () => {
  it('a confident answer gives status bot: no lane, no SLA timer, no offer even with an agent free', () => {
    const run = runner({ bot: 'first' });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    const first = answer(ask(run, 'r1', TRACK));
    expect(first).toMatchObject({ status: 'bot', bot: true });
    expect(first).not.toHaveProperty('predictedWaitMs');
    expect(botMessages(run, 'r1')).toHaveLength(1);
    expect(botMessages(run, 'r1')[0]).toMatchObject({ faq: 'order-status-en' });
    expect(run.render('queue/orders')).toMatchObject({ waiting: 0, offered: 0 });
    expect([...run.timers.keys()].filter((t) => t.includes('r1'))).toEqual([]);
    run.advance(3_600_000);
    run.online('a2', { orders: 9 }, { chat: 1 }, ['en']);
    expect(offers(run, 'a1').concat(offers(run, 'a2'))).toEqual([]);
    expect(run.on('alerts/service')).toEqual([]);
    expect(run.render('request/r1')).toMatchObject({ status: 'bot' });
  });

  it('not confident: a "don\'t know" message and queued as usual (offered to the free agent)', () => {
    const run = runner({ bot: 'first' });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    expect(answer(ask(run, 'r1', UNKNOWN))).toMatchObject({ status: 'offered', bot: true });
    expect(botMessages(run, 'r1')[0]).not.toHaveProperty('faq');
    // The offer made at once already carries the customer's words and the bot's reply.
    expect(offers(run, 'a1')[0].customer.bot).toEqual([
      { from: 'customer', text: UNKNOWN, at: run.now },
      { from: 'bot', text: expect.stringMatching(/person/), at: run.now, score: expect.any(Number) },
    ]);
  });

  it('without text, or on voice, the request is queued as usual', () => {
    const run = runner({ bot: 'first' });
    expect(answer(ask(run, 'r1'))).toMatchObject({ status: 'queued' });
    expect(answer(ask(run, 'r2', '   '))).toMatchObject({ status: 'queued' });
    expect(answer(ask(run, 'r3', TRACK, { channel: 'voice' }))).toMatchObject({ status: 'queued' });
    expect(['r1', 'r2', 'r3'].flatMap((id) => botMessages(run, id))).toEqual([]);
  });

  it('escalation queues it at once (waiting from now) and the offer carries the exchange with the bot', () => {
    const run = runner({ bot: 'first' });
    ask(run, 'r1', TRACK);
    run.now += 5_000;
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    expect(offers(run, 'a1')).toEqual([]);
    expect(answer(run.ok({ type: 'service.escalated', request: 'r1' }))).toMatchObject({ request: 'r1', status: 'offered' });
    expect(run.req('r1').enqueuedAt).toBe(run.now);
    const [offer] = offers(run, 'a1');
    expect(offer.customer.bot).toEqual([
      { from: 'customer', text: TRACK, at: run.now - 5_000 },
      { from: 'bot', text: expect.any(String), at: run.now - 5_000, faq: 'order-status-en', score: expect.any(Number) },
    ]);
    // Asked again while a person has it: accepted, nothing changes.
    const before = run.dump();
    expect(answer(run.ok({ type: 'service.escalated', request: 'r1' }))).toMatchObject({ status: 'offered' });
    expect(run.dump()).toBe(before);
  });

  it('escalated with nobody free: queued with an SLA timer and a predicted wait', () => {
    const run = runner({ bot: 'first' });
    ask(run, 'r1', TRACK);
    run.clearMessages();
    run.ok({ type: 'service.escalated', request: 'r1' });
    expect(run.req('r1').status).toBe('queued');
    expect(run.timers.has('sla/r1')).toBe(true);
    expect(run.on('request/r1').find((m) => m.type === 'status')).toMatchObject({ status: 'queued', position: 1, predictedWaitMs: null });
  });

  it('a later message the bot can answer gets another answer; one it cannot hands the request to a person', () => {
    const run = runner({ bot: 'first' });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    ask(run, 'r1', TRACK);
    run.ok({ type: 'service.message', request: 'r1', from: 'customer', text: 'Can I cancel my order?' });
    expect(botMessages(run, 'r1').map((m) => m.faq)).toEqual(['order-status-en', 'order-cancel-en']);
    expect(run.req('r1').status).toBe('bot');
    run.ok({ type: 'service.message', request: 'r1', from: 'customer', text: UNKNOWN });
    expect(botMessages(run, 'r1')).toHaveLength(3);
    expect(botMessages(run, 'r1')[2]).not.toHaveProperty('faq');
    expect(run.offeredTo('r1')).toBe('a1');
    expect(offers(run, 'a1')[0].customer.bot.map((l: { from: string }) => l.from)).toEqual(['customer', 'bot', 'customer', 'bot', 'customer', 'bot']);
  });

  it('a bot-resolved request is never offered, even when an agent comes free; it moves to the past', () => {
    const run = runner({ bot: 'first' });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    ask(run, 'busy', UNKNOWN);
    ask(run, 'r1', TRACK);
    expect(answer(run.ok({ type: 'service.resolved', request: 'r1', by: 'bot' }))).toMatchObject({ status: 'resolved', by: 'bot' });
    run.accept('busy', 'a1');
    run.complete('busy');
    run.online('a2', { orders: 5 }, { chat: 1 }, ['en']);
    run.advance(3_600_000);
    expect(offers(run, 'a1').map((o) => o.request)).toEqual(['busy']);
    expect(offers(run, 'a2')).toEqual([]);
    expect(run.req('r1')).toMatchObject({ status: 'resolved', resolvedBy: 'bot', completedAt: expect.any(Number) });
    expect(run.state.get('svc/cust/cust-r1')).toEqual({ open: [], past: ['r1'] });
    expect(run.render('request/r1')).toMatchObject({ status: 'resolved', resolvedBy: 'bot' });
    run.rejects({ type: 'service.resolved', request: 'r1', by: 'bot' }, 'conflict');
    run.rejects({ type: 'service.escalated', request: 'r1' }, 'conflict');
    run.rejects({ type: 'service.message', request: 'r1', from: 'customer', text: 'hello?' }, 'conflict');
    run.rejects({ type: 'service.completed', request: 'r1' }, 'conflict');
  });
});

describe('service.resolved of a request a person has or waits for', () => {
  it('queued: out of the lane, never offered; offered: the offer is withdrawn and the agent takes the next', () => {
    const run = runner({ bot: 'overflow' });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    ask(run, 'r1', TRACK);
    ask(run, 'r2', TRACK);
    ask(run, 'r3', TRACK);
    run.ok({ type: 'service.resolved', request: 'r2', by: 'bot' });
    expect(run.render('queue/orders')).toMatchObject({ waiting: 1, offered: 1 });
    run.ok({ type: 'service.resolved', request: 'r1', by: 'agent' });
    expect(run.on('agent/a1').filter((m) => m.type === 'revoked')).toEqual([{ type: 'revoked', request: 'r1', reason: 'resolved' }]);
    expect(run.offeredTo('r3')).toBe('a1');
    expect(run.ag('a1').load[0]).toBe(1);
    expect(offers(run, 'a1').map((o) => o.request)).toEqual(['r1', 'r3']);
  });

  it('assigned: the agent is freed; a resolved request ends its agent-side actions with conflict', () => {
    const run = runner({ bot: 'overflow' });
    run.online('a1', { orders: 5 }, { chat: 1 }, ['en']);
    ask(run, 'r1', TRACK);
    run.accept('r1', 'a1');
    run.ok({ type: 'service.resolved', request: 'r1', by: 'agent' });
    expect(run.ag('a1')).toMatchObject({ load: [0, 0, 0, 0, 0], assigned: [] });
    expect(code(run.accept('r1', 'a1'))).toBe('conflict');
  });
});

describe('off mode and hostile inputs', () => {
  it('off: no bot message, the knowledge base still kept', () => {
    const run = runner({ bot: 'off' });
    expect(answer(ask(run, 'r1', TRACK))).toMatchObject({ status: 'queued', predictedWaitMs: null });
    expect(botMessages(run, 'r1')).toEqual([]);
    expect(run.state.get('svc/faq/order-status-en')).toBeDefined();
  });

  it('unknown requests, bad fields, huge texts and messages claiming to be the bot get codes, and change nothing', () => {
    const run = runner({ bot: 'first' });
    run.rejects({ type: 'service.escalated', request: 'nope' }, 'not_found');
    run.rejects({ type: 'service.resolved', request: 'nope', by: 'bot' }, 'not_found');
    ask(run, 'r1', TRACK);
    run.rejects({ type: 'service.resolved', request: 'r1', by: 'robot' }, 'invalid_event');
    run.rejects({ type: 'service.resolved', request: 'r1' }, 'invalid_event');
    run.rejects({ type: 'service.escalated', request: 42 }, 'invalid_event');
    run.rejects({ type: 'service.message', request: 'r1', from: 'bot', text: 'trust me' }, 'invalid_event');
    run.rejects({ type: 'service.requested', request: 'r2', subject: 's', channel: 'chat', topic: 'orders', text: 'x'.repeat(4001) }, 'invalid_event');
    run.rejects({ type: 'service.requested', request: 'r2', subject: 's', channel: 'chat', topic: 'orders', text: ['Where is my order?'] }, 'invalid_event');
    // The longest text allowed, of words no entry holds, and of one repeated word: answered, not broken.
    for (const [id, text] of [['long1', 'zq '.repeat(1333)], ['long2', 'order '.repeat(666)], ['long3', '🙂'.repeat(4000)], ['long4', '\u0000\u200b']]) {
      expect(answer(ask(run, id, text))).toMatchObject({ ok: true });
      expect(['bot', 'queued']).toContain(run.req(id).status);
    }
  });
});

describe('hostile languages', () => {
  it('a language tag named like an object property still gets the plain "don\'t know" text', () => {
    const run = runner({ bot: 'overflow' });
    for (const [id, language] of [['c1', 'constructor'], ['c2', 'Constructor-x'], ['c3', 'toString']]) {
      ask(run, id, UNKNOWN, { language });
      const [said] = botMessages(run, id);
      expect(typeof said.text).toBe('string');
      expect(said.text).toMatch(/person/);
    }
  });
});

describe('erasure', () => {
  it("a customer's requests waiting on the bot or resolved by it go with their messages; the knowledge base stays", () => {
    const run = runner({ bot: 'first' });
    run.ok({ type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' });
    ask(run, 'waiting', TRACK, { subject: 'phone:+1' });
    ask(run, 'done', 'Can I cancel my order?', { subject: 'c1' });
    run.ok({ type: 'service.resolved', request: 'done', by: 'bot' });
    expect(run.req('waiting').status).toBe('bot');
    run.ok({ id: 'erase', type: 'customer.erased', customer: 'phone:+1' });
    run.drain();
    expect(run.answers.get('erase')).toMatchObject({ ok: true, erased: { requests: 2, messages: 4 } });
    expect([...run.state.keys()].filter((k) => /^svc\/(req|msgs?|cust|custold)\//.test(k))).toEqual([]);
    expect(run.state.get('svc/faq/order-status-en')).toBeDefined();
  });
});

describe('the export', () => {
  it('holds the customer words and the bot answers with their entry and score', () => {
    const run = runner({ bot: 'first' });
    ask(run, 'r1', TRACK);
    run.ok({ type: 'service.resolved', request: 'r1', by: 'bot' });
    const [exported] = run.processor.query!(run.view, 'requests', { subject: 'cust-r1' }) as Array<Record<string, any>>;
    expect(exported).toMatchObject({ request: 'r1', status: 'resolved', resolvedBy: 'bot', botAnswered: true });
    expect(exported.messages).toEqual([
      { from: 'customer', text: TRACK, at: expect.any(Number) },
      { from: 'bot', text: expect.any(String), at: expect.any(Number), faq: 'order-status-en', score: expect.any(Number) },
    ]);
  });
});
