// Random traffic with the bot in both modes (pure): requests with and without text the knowledge
// base answers, customer messages, escalations, resolutions by the bot and by agents, accepts,
// completions, agents leaving, coming back and changing languages or status, the clock moving.
// After every step the routing invariants hold (service-harness.ts), each topic's capacity totals
// match its agents, and: a request waiting on the bot (status bot) holds no offer, SLA timer or
// place in a lane; an ended request holds no timer; and no request is ever offered after it was
// resolved.

import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHANNELS, serviceKeys } from '../engine/service/mod.ts';
import type { TopicStats } from '../engine/service/types.ts';
import { FC_SEED, invariantProblems, ServiceRunner } from './service-harness.ts';

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/knowledge-base.json', import.meta.url), 'utf8')) as Array<Record<string, unknown>>;
const TEXTS = [undefined, 'How can I track my order?', 'Can I cancel my order?', 'do you sell garden gnomes in purple', '我的订单在哪里？', ''];
const TOPICS = ['orders', 'returns'];
const AGENTS = ['a0', 'a1', 'a2'];

const opArb = fc.tuple(fc.integer({ min: 0, max: 99 }), fc.nat(), fc.nat());

/** Each topic's capacity totals (the predicted wait's divisor) equal the sum over its online, available agents. */
function capacityProblems(r: ServiceRunner): string[] {
  const problems: string[] = [];
  for (const topic of TOPICS) {
    const s = r.state.get(serviceKeys.stats(topic)) as TopicStats | undefined;
    if (!s) continue;
    for (const language of ['en', 'zh', '*']) {
      const expected = CHANNELS.map(() => 0);
      for (const a of AGENTS.map((id) => r.ag(id))) {
        if (!a.online || a.status !== 'available' || !a.topics.includes(topic)) continue;
        if (language !== '*' && !a.languages.includes(language)) continue;
        a.capacity.forEach((n, ch) => (expected[ch] += n));
      }
      const i = s.capacityLanguages!.indexOf(language);
      const kept = i < 0 ? CHANNELS.map(() => 0) : s.capacities![i];
      if (kept.join() !== expected.join()) problems.push(`${topic}/${language}: ${kept} kept, ${expected} online`);
    }
  }
  return problems;
}

/** What the runs went through, so that a run that never reached the bot cannot pass unnoticed. */
const seen = new Set<string>();

function simulate(mode: 'first' | 'overflow', ops: Array<[number, number, number]>): void {
  const r = new ServiceRunner({ bot: mode, targetWaitMs: 60_000 });
  for (const event of FIXTURE) r.ok(event);
  AGENTS.forEach((a, i) => r.online(a, { orders: 5, returns: 3 }, { chat: 1 + (i % 2), email: 1 }, ['en', 'zh']));
  const requests: string[] = [];
  const resolved = new Set<string>();
  const pick = (list: string[], n: number) => (list.length ? list[n % list.length] : undefined);
  const withStatus = (...statuses: string[]) => requests.filter((id) => statuses.includes(r.req(id).status));
  r.watch = (apply) => {
    const mark = r.messages.length;
    apply();
    for (const { topic, data } of r.messages.slice(mark) as Array<{ topic: string; data: any }>) {
      if (topic.startsWith('agent/') && data.type === 'offer') expect(resolved.has(data.request), `${data.request} offered after it was resolved`).toBe(false);
    }
  };
  let n = 0;
  for (const [kind, x, y] of ops) {
    if (kind < 30) {
      const id = `q${n++}`;
      requests.push(id);
      const text = TEXTS[x % TEXTS.length];
      r.ok({ type: 'service.requested', request: id, subject: `c${y % 5}`, channel: y % 3 === 0 ? 'email' : 'chat', topic: TOPICS[x % 2], language: text?.startsWith('我') ? 'zh' : 'en', ...(text !== undefined ? { text } : {}) });
    } else if (kind < 40) {
      const id = pick(withStatus('bot', 'queued', 'offered', 'assigned'), x);
      if (id) r.ok({ type: 'service.message', request: id, from: 'customer', text: TEXTS[y % TEXTS.length] ?? 'hello' });
    } else if (kind < 48) {
      const id = pick(withStatus('bot', 'queued', 'offered', 'assigned'), x);
      if (id) r.ok({ type: 'service.escalated', request: id });
    } else if (kind < 56) {
      const id = pick(withStatus('bot', 'queued', 'offered', 'assigned'), x);
      if (id) {
        r.ok({ type: 'service.resolved', request: id, by: y % 2 ? 'bot' : 'agent' });
        resolved.add(id);
      }
    } else if (kind < 70) {
      const id = pick(withStatus('offered'), x);
      if (id) r.ok({ type: 'service.accepted', request: id, agent: r.offeredTo(id)! });
    } else if (kind < 80) {
      const id = pick(withStatus('assigned', 'bot'), x);
      if (id) r.ok({ type: 'service.completed', request: id });
    } else if (kind < 88) {
      r.advance([1_000, 20_000, 40_000][x % 3]);
    } else if (kind < 94) {
      r.ok({ type: 'agent.offline', agent: AGENTS[x % AGENTS.length] });
    } else if (kind < 97) {
      r.ok({ type: 'agent.status', agent: AGENTS[x % AGENTS.length], status: y % 2 ? 'away' : 'available' });
    } else {
      const i = x % AGENTS.length;
      // Back online, or still online with other languages.
      r.online(AGENTS[i], { orders: 5, returns: 3 }, { chat: 1 + (i % 2), email: 1 }, y % 3 ? ['en', 'zh'] : ['en']);
    }
    expect(invariantProblems(r.view, requests, AGENTS)).toEqual([]);
    expect(capacityProblems(r)).toEqual([]);
    for (const id of requests) {
      const req = r.req(id);
      seen.add(`${mode} ${req.status}`);
      if (req.botAnswered) seen.add(`${mode} answered`);
      const timers = [`sla/${id}`, `offer/${id}`].filter((t) => r.timers.has(t));
      if (req.status === 'bot') {
        expect(req.offer, `${id} waits on the bot with an offer`).toBeUndefined();
        expect(timers, `${id} waits on the bot with timers`).toEqual([]);
      }
      if (req.status === 'completed' || req.status === 'resolved') expect(timers, `${id} ended with timers`).toEqual([]);
    }
  }
}

describe('the bot under random traffic', () => {
  for (const mode of ['first', 'overflow'] as const) {
    it(`${mode}: routing invariants hold and nothing resolved or waiting on the bot is offered`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 20, maxLength: 120 }), (ops) => simulate(mode, ops)),
        { seed: FC_SEED, numRuns: 25 },
      );
      const expected = mode === 'first' ? ['bot', 'resolved', 'assigned', 'answered'] : ['queued', 'resolved', 'assigned', 'answered'];
      for (const status of expected) expect(seen, `${mode} never reached ${status}`).toContain(`${mode} ${status}`);
    });
  }
});
