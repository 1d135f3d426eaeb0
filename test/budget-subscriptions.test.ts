// The server-wide WebSocket budgets: subscriptions over all connections
// (--max-subscriptions), those of anonymous connections (--max-anonymous-subscriptions) and
// anonymous connections themselves (--max-anonymous-connections). Past a budget a `sub` is
// answered `too_many_subscriptions` and an anonymous upgrade 503, while what was admitted keeps
// its updates; when clients leave, every count returns to 0 and the budget admits again.

import { describe, expect, it } from 'vitest';
import { budget, untilInUse } from './budget-harness.ts';
import { loc, post, recv, upgradeStatus, useWsServers, type WsClient } from './ws-harness.ts';

const ws = useWsServers();

const TOPICS = ['stock/A', 'stock/B', 'stock/C', 'stock/D'];

/** Subscribes to each topic in turn; returns the answer's op (snapshot) or error code for each. */
async function subscribeAll(client: WsClient, topics: string[]): Promise<string[]> {
  const answers: string[] = [];
  for (const topic of topics) {
    const answer = await client.sub(topic);
    answers.push(answer.op === 'error' ? answer.code : answer.op);
  }
  return answers;
}

describe('subscription budgets', () => {
  it('refuses anonymous subscriptions past their total, then all past the overall one; admitted ones keep their updates; leaving gives them back', async () => {
    const s = await ws.server({ wsLimits: { maxAnonymousSubscriptions: 10, maxTotalSubscriptions: 15 } });
    const ingest = s.token('ingest', 'feed');
    const anonymous = await Promise.all([0, 1, 2].map(() => ws.client(s)));

    // 3 × 4 anonymous subs against 10: the last two are refused, with the topic as ref.
    const answers = [];
    for (const client of anonymous) answers.push(...(await subscribeAll(client, TOPICS)));
    expect(answers.filter((a) => a === 'snapshot')).toHaveLength(10);
    expect(answers.slice(10)).toEqual(['too_many_subscriptions', 'too_many_subscriptions']);
    const refusal = anonymous[2].messages.find((m) => m.op === 'error' && m.ref === 'stock/D');
    expect(refusal).toMatchObject({ code: 'too_many_subscriptions', ref: 'stock/D', message: expect.stringContaining('anonymous') });

    // A token holder draws on the overall budget only: 5 more fit (15), the sixth does not.
    const customer = await ws.client(s, { token: s.token('customer', 'c1') });
    expect(await subscribeAll(customer, [...TOPICS, 'stock/E', 'stock/F'])).toEqual([...Array(5).fill('snapshot'), 'too_many_subscriptions']);
    expect(await budget(s.url, 'subscriptions')).toEqual({ inUse: 15, limit: 15, refusals: 1 });
    expect(await budget(s.url, 'anonymous_subscriptions')).toEqual({ inUse: 10, limit: 10, refusals: 2 });

    // Everything admitted keeps working: an update of stock/A reaches every subscriber of it.
    const [result] = await post(s.url, ingest, [loc('l1', 'S1'), recv('r1', 'A', 'S1', 7)]);
    expect(result.ok).toBe(true);
    for (const client of [...anonymous, customer]) {
      await client.next((m) => m.op === 'update' && m.topic === 'stock/A' && m.data.available === 7);
    }
    // A repeated sub of a held topic is no new subscription: answered, not refused.
    expect((await anonymous[0].sub('stock/B')).op).toBe('snapshot');

    // An unsub gives one back at once: the refused topic now fits.
    anonymous[0].send({ op: 'unsub', topic: 'stock/B' });
    expect((await anonymous[2].sub('stock/D')).op).toBe('snapshot');

    // Closing gives back every subscription the connections held.
    await Promise.all([...anonymous, customer].map((c) => c.close()));
    await untilInUse(s.url, 'subscriptions', 0);
    expect((await budget(s.url, 'anonymous_subscriptions')).inUse).toBe(0);
    const fresh = await ws.client(s);
    expect(await subscribeAll(fresh, TOPICS)).toEqual(Array(4).fill('snapshot'));
  });

  it('refuses anonymous connections past their total with 503, lets token holders in, and admits again once one closes', async () => {
    const s = await ws.server({ wsLimits: { maxAnonymousConnections: 3 } });
    const admitted = await Promise.all([0, 1, 2].map(() => ws.client(s)));
    expect(await upgradeStatus(s.wsUrl)).toBe(503);
    // A token holder is not anonymous: let in.
    const holder = await ws.client(s, { token: s.token('customer', 'c1') });
    expect((await holder.sub('stock/A')).op).toBe('snapshot');
    expect(await budget(s.url, 'anonymous_connections')).toEqual({ inUse: 3, limit: 3, refusals: 1 });

    // The anonymous clients already in are served as before.
    expect((await admitted[0].sub('stock/A')).op).toBe('snapshot');

    await admitted[1].close();
    await untilInUse(s.url, 'anonymous_connections', 2);
    const next = await ws.client(s);
    expect((await next.sub('stock/B')).op).toBe('snapshot');
    await Promise.all([admitted[0], admitted[2], next].map((c) => c.close()));
    await untilInUse(s.url, 'anonymous_connections', 0);
  });
});
