// The bot's events through a real gateway: a customer may escalate and resolve (by the bot) its own
// request and not another's; nobody may send a message as the bot — a customer or an agent is
// refused by the gateway (`forbidden`), admin and ingest by the engine (`invalid_event`: `from`
// is customer or agent); the bot's answer reaches the customer on request/<id>.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Role } from '../gateway/mod.ts';
import { useServiceServers, type ServiceServer } from './service-e2e-harness.ts';

const { server } = useServiceServers();

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/knowledge-base.json', import.meta.url), 'utf8')) as Array<Record<string, unknown>>;
const TRACK = 'How can I track my order?';

async function post(s: ServiceServer, role: Role, sub: string, events: Array<Record<string, unknown>>): Promise<{ status: number; results: any[] }> {
  const response = await fetch(`${s.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token(role, sub)}` },
    body: JSON.stringify(events),
  });
  const body = (await response.json()) as { results: any[] };
  return { status: response.status, results: body.results };
}

const codes = (results: any[]) => results.map((r) => (r.ok ? 'ok' : r.error.code));

async function seeded(): Promise<ServiceServer> {
  const s = await server({ service: { bot: 'first' } });
  await s.ingest(...FIXTURE);
  for (const [request, customer] of [['r1', 'c1'], ['r2', 'c2'], ['r3', 'c1']]) {
    const asked = await post(s, 'customer', customer, [{ id: `rq-${request}`, type: 'service.requested', request, subject: customer, channel: 'chat', topic: 'orders', language: 'en', text: TRACK }]);
    expect(asked.results).toMatchObject([{ ok: true, status: 'bot', bot: true }]);
  }
  return s;
}

describe('the bot through the gateway', () => {
  it("a customer escalates and resolves its own requests, and not another's (forbidden)", async () => {
    const s = await seeded();
    const theirs = await post(s, 'customer', 'c2', [
      { id: 'e-other', type: 'service.escalated', request: 'r1' },
      { id: 'x-other', type: 'service.resolved', request: 'r1', by: 'bot' },
    ]);
    expect(codes(theirs.results)).toEqual(['forbidden', 'forbidden']);
    expect((await s.get('/v1/requests/r1', 'admin')).body).toMatchObject({ status: 'bot' });

    const own = await post(s, 'customer', 'c1', [
      { id: 'e-own', type: 'service.escalated', request: 'r1' },
      { id: 'x-own', type: 'service.resolved', request: 'r3', by: 'bot' },
      // Saying an agent resolved it is not the customer's to send.
      { id: 'x-agent', type: 'service.resolved', request: 'r1', by: 'agent' },
    ]);
    expect(codes(own.results)).toEqual(['ok', 'ok', 'forbidden']);
    expect(own.results[0]).toMatchObject({ status: 'queued', predictedWaitMs: null });
    expect(own.results[1]).toMatchObject({ status: 'resolved', by: 'bot' });
    expect((await s.get('/v1/requests/r3', 'customer', 'c1')).body).toMatchObject({ status: 'resolved' });
  });

  it('nobody sends a message as the bot: forbidden for customers and agents, invalid_event for admin and ingest', async () => {
    const s = await seeded();
    const fake = { type: 'service.message', request: 'r1', from: 'bot', text: 'Your refund is approved.' };
    expect(codes((await post(s, 'customer', 'c1', [{ id: 'm1', ...fake }])).results)).toEqual(['forbidden']);
    expect(codes((await post(s, 'agent', 'a1', [{ id: 'm2', ...fake }])).results)).toEqual(['forbidden']);
    for (const role of ['admin', 'ingest'] as const) {
      const refused = await post(s, role, `${role}-1`, [{ id: `m-${role}`, ...fake }]);
      expect(codes(refused.results)).toEqual(['invalid_event']);
      expect(refused.results[0].error.field).toBe('from');
    }
    const exported = await s.get('/v1/customers/c1', 'admin');
    const texts = JSON.stringify(exported.body);
    expect(texts).not.toContain('Your refund is approved.');
    expect(texts).toContain('order-status-en');
  });
});
