// The service figures through a real engine and gateway: requests handled by agents, one left
// unanswered, rated 5 and 2, then GET /v1/service/stats (by topic, channel, agent) and the
// `stats/service` topic over a WebSocket give the counts and ratios of that mix. Supervisors and
// admins read them; customers, agents and feeds are refused; a bad window or dimension is 400.

import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type Role } from '../gateway/mod.ts';
import { TEST_SECRET } from './gateway-harness.ts';
import { post, startWsServer, WsClient, type Msg, type WsServer, getAs, mustApply } from './ws-harness.ts';

const token = (role: Role, sub = `${role}-1`) => signToken({ role, sub }, TEST_SECRET);
const supervisor = token('supervisor');

/** Billing: q1 answered and rated 5, q2 answered and rated 2, q3 never answered; shipping: q4 answered. */
const BY_TOPIC = [
  { key: 'billing', requests: 3, containment: null, fcr: 1, abandonment: 1 / 3, csat: 0.5, ratings: 2 },
  { key: 'shipping', requests: 1, containment: null, fcr: 1, abandonment: 0, csat: null, ratings: 0 },
];
const TOTAL = { requests: 4, containment: null, fcr: 1, abandonment: 0.25, csat: 0.5, ratings: 2 };

let server: WsServer | undefined;

beforeAll(async () => {
  server = await startWsServer({}, undefined, { service: { bot: 'off' } });
  const s = server;
  const watcher = await WsClient.open(s.wsUrl, { token: supervisor });
  try {
    await watcher.sub('stats/service');
    await mustApply(s, [
      { id: 'on1', type: 'agent.online', agent: 'a1', skills: { billing: 5 }, capacity: { chat: 5 } },
      { id: 'on2', type: 'agent.online', agent: 'a2', skills: { shipping: 5 }, capacity: { email: 5 } },
    ]);
    const ask = (request: string, subject: string, topic: string, channel: string) => ({ id: `rq-${request}`, type: 'service.requested', request, subject, channel, topic });
    await mustApply(s, [ask('q1', 'alice', 'billing', 'chat'), ask('q2', 'bob', 'billing', 'chat'), ask('q3', 'carol', 'billing', 'chat'), ask('q4', 'dave', 'shipping', 'email')]);
    const take = (request: string, agent: string) => ({ id: `acc-${request}`, type: 'service.accepted', request, agent });
    await mustApply(s, [take('q1', 'a1'), take('q2', 'a1'), take('q3', 'a1'), take('q4', 'a2')]);
    const say = (request: string) => ({ id: `say-${request}`, type: 'service.message', request, from: 'agent', text: 'Let me look.' });
    await mustApply(s, [say('q1'), say('q2'), say('q4')]);
    const end = (request: string) => ({ id: `end-${request}`, type: 'service.completed', request });
    await mustApply(s, [end('q1'), end('q2'), end('q3'), end('q4')]);
    await mustApply(s, [
      { id: 'rate-q1', type: 'service.rated', request: 'q1', score: 5 },
      { id: 'rate-q2', type: 'service.rated', request: 'q2', score: 2, comment: 'Slow.' },
    ]);
    // The topic's updates tell when the last rating is counted.
    await watcher.next((m: Msg) => m.topic === 'stats/service' && m.data?.total?.ratings === 2);
  } finally {
    await watcher.close();
  }
});

afterAll(() => server?.stop());

describe('service figures over HTTP and WebSocket', () => {
  it('GET /v1/service/stats gives the figures of the mix by topic (the default), channel and agent', async () => {
    const s = server!;
    const byTopic = await getAs(s, '/v1/service/stats', supervisor);
    expect(byTopic.status).toBe(200);
    expect(byTopic.body).toMatchObject({ window: '1h', by: 'topic', groups: BY_TOPIC, total: TOTAL });
    // Three first responses and four handle times were measured: percentiles, not nulls.
    expect(byTopic.body.total.firstResponseMs.p90).toEqual(expect.any(Number));
    expect(byTopic.body.total.handleMs.p50).toEqual(expect.any(Number));
    const byChannel = await getAs(s, '/v1/service/stats?window=15m&by=channel', token('admin'));
    expect(byChannel.body.groups.map((g: any) => [g.key, g.requests, g.ratings])).toEqual([
      ['chat', 3, 2],
      ['email', 1, 0],
    ]);
    const byAgent = await getAs(s, '/v1/service/stats?window=24h&by=agent', supervisor);
    expect(byAgent.body.groups.map((g: any) => [g.key, g.requests, g.abandonment, g.csat])).toEqual([
      ['a1', 3, 1 / 3, 0.5],
      ['a2', 1, 0, null],
    ]);
  });

  it('the stats/service topic shows the last hour by topic', async () => {
    const s = server!;
    const client = await WsClient.open(s.wsUrl, { token: supervisor });
    try {
      const snapshot = await client.sub('stats/service');
      expect(snapshot.data).toMatchObject({ window: '1h', by: 'topic', groups: BY_TOPIC, total: TOTAL });
      expect(isDeepStrictEqual(snapshot.data, (await getAs(s, '/v1/service/stats', supervisor)).body)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('is for supervisor and admin tokens only, over HTTP and WebSocket', async () => {
    const s = server!;
    expect((await getAs(s, '/v1/service/stats')).status).toBe(401);
    for (const role of ['customer', 'agent', 'ingest', 'kiosk'] as Role[]) {
      expect(await getAs(s, '/v1/service/stats', token(role)), role).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    }
    for (const role of ['customer', 'agent'] as Role[]) {
      const client = await WsClient.open(s.wsUrl, { token: token(role, role === 'customer' ? 'alice' : 'a1') });
      try {
        expect(await client.sub('stats/service'), role).toMatchObject({ op: 'error', code: 'forbidden' });
      } finally {
        await client.close();
      }
    }
  });

  it('answers 400 bad_request for a window outside 1 minute to 24 hours or another dimension', async () => {
    const s = server!;
    for (const query of ['window=25h', 'window=0m', 'window=1d', 'window=%00', 'by=customer', 'by=Topic', 'by=__proto__', 'window=1h&by=']) {
      const answer = await getAs(s, `/v1/service/stats?${query}`, supervisor);
      if (query === 'window=1h&by=') expect(answer.status, query).toBe(200);
      else expect(answer, query).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    }
  });

  it('refuses a second rating and one before the end, as the customer sends them', async () => {
    const s = server!;
    const [again] = await post(s.url, token('customer', 'alice'), [{ id: 'rate-again', type: 'service.rated', request: 'q1', score: 1 }]);
    expect(again).toMatchObject({ ok: false, error: { code: 'already_rated' } });
    const [others] = await post(s.url, token('customer', 'alice'), [{ id: 'rate-other', type: 'service.rated', request: 'q2', score: 1 }]);
    expect(others).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});
