// GET /v1/requests/:request/messages: a request's messages so far — the customer's first words
// and the bot's answer among them, which come in the commit that raises the request, before any
// page can subscribe to request/<id> — readable by exactly those who may read the request: its
// customer, the agent it is assigned to, and the roles that read everything; any other caller
// gets the same 403 whether or not the request exists.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useServiceServers } from './service-e2e-harness.ts';

const { server } = useServiceServers();

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/knowledge-base.json', import.meta.url), 'utf8')) as Array<{ faq: string; answer: string }>;
const TRACK = 'How can I track my order?';

describe('GET /v1/requests/:request/messages', () => {
  it("gives the request's messages, the bot's answer with its FAQ entry, to those who may read the request only", async () => {
    const s = await server({ service: { bot: 'first' } });
    await s.ingest(...FIXTURE.filter((e) => e.faq === 'order-status-en'));
    await s.ingest({ id: 'rq-1', type: 'service.requested', request: 'r1', subject: 'c1', channel: 'chat', topic: 'orders', language: 'en', text: TRACK });

    const own = await s.get('/v1/requests/r1/messages', 'customer', 'c1');
    expect(own.status).toBe(200);
    expect(own.body.request).toBe('r1');
    expect(own.body.messages).toMatchObject([
      { from: 'customer', text: TRACK },
      { from: 'bot', faq: 'order-status-en', text: FIXTURE.find((e) => e.faq === 'order-status-en')!.answer },
    ]);
    expect(own.body.messages[1].score).toBeGreaterThan(0);
    expect(typeof own.body.messages[0].at).toBe('number');

    // Another customer, and an agent it is not assigned to: 403, as for an id that names nothing.
    for (const [path, role, sub] of [['/v1/requests/r1/messages', 'customer', 'c2'], ['/v1/requests/nope/messages', 'customer', 'c2'], ['/v1/requests/r1/messages', 'agent', 'a1']] as const) {
      const refused = await s.get(path, role, sub);
      expect([refused.status, refused.body.error?.code ?? refused.body.code]).toEqual([403, 'forbidden']);
    }
    expect((await s.get('/v1/requests/r1/messages')).status).toBe(401);
    expect((await s.get('/v1/requests/nope/messages', 'admin')).status).toBe(404);

    // Escalated and accepted: the agent reads the whole conversation, its own words too.
    await s.ingest({ id: 'on-a1', type: 'agent.online', agent: 'a1', skills: { orders: 5 }, languages: ['en'], capacity: { chat: 2 } });
    await s.ingest({ id: 'esc-1', type: 'service.escalated', request: 'r1' });
    await s.ingest({ id: 'acc-1', type: 'service.accepted', request: 'r1', agent: 'a1' });
    await s.ingest({ id: 'msg-1', type: 'service.message', request: 'r1', from: 'agent', text: 'It left our warehouse today.' });
    const agent = await s.get('/v1/requests/r1/messages', 'agent', 'a1');
    expect(agent.status).toBe(200);
    expect(agent.body.messages.map((m: { from: string }) => m.from)).toEqual(['customer', 'bot', 'agent']);
  });
});
