// customer.erased through a real engine and gateway, with real tokens: afterwards every formerly
// linked id reads as nobody (export, recommendations, orders, its requests), the order keeps its
// lines and status without the customer, and a WebSocket client resuming the order's or the
// request's topic from before the erasure gets a snapshot, never the old updates. Only ingest
// and admin may send it; a repeated erasure is a duplicate.

import { describe, expect, it } from 'vitest';
import { loc, post, recv, useWsServers, type WsServer } from './ws-harness.ts';

const { server, client } = useWsServers();

const PHONE = 'phone:+4915100000000';
const EMAIL = 'email:ann@example.com';
const IDS = ['c1', PHONE, EMAIL];

async function send(s: WsServer, events: unknown[], role: 'ingest' | 'admin' = 'ingest') {
  const answers = await post(s.url, s.token(role), events);
  expect(answers.filter((a) => !a.ok)).toEqual([]);
  await s.engine.idle();
  return answers;
}

async function get(s: WsServer, path: string, role: 'supervisor' | 'admin' = 'admin') {
  const response = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${s.token(role)}` } });
  return { status: response.status, body: (await response.json()) as any };
}

async function customer(s: WsServer) {
  await send(s, [
    loc('l1', 'S1'),
    recv('r1', 'A', 'S1', 10),
    { id: 'link', type: 'identity.linked', ids: [PHONE, EMAIL], customer: 'c1' },
    { id: 'prof', type: 'customer.profile', customer: EMAIL, tier: 'vip', language: 'de' },
    { id: 'v1', type: 'activity.viewed', subject: PHONE, sku: 'A', channel: 'web', ts: 1_000 },
    { id: 'p1', type: 'order.placed', order: 'o1', customer: PHONE, channel: 'web', pickup: 'S1', lines: [{ sku: 'A', qty: 1 }], ts: 2_000 },
  ]);
  await send(s, [
    { id: 'desk', type: 'agent.online', agent: 'a1', skills: { returns: 5 }, capacity: { chat: 1 }, languages: ['de'] },
    { id: 'ready', type: 'order.ready', order: 'o1', ts: 3_000 },
  ]);
}

/** The customer asks for help and writes: offered to a1's desk with the customer's context. */
async function conversation(s: WsServer) {
  await send(s, [{ id: 'sq1', type: 'service.requested', request: 'q1', subject: EMAIL, channel: 'chat', topic: 'returns' }]);
  await send(s, [{ id: 'm1', type: 'service.message', request: 'q1', from: 'customer', text: 'Call me on +4915100000000', ts: 4_000 }]);
}

describe('customer.erased through the gateway', () => {
  it('afterwards every formerly linked id is nobody; the order stays without the customer; topics replay nothing old', async () => {
    const s = await server();
    await customer(s);

    // Followers of the order, the request and the agent's desk, to resume from here after the
    // erasure: the hub keeps what these topics carried since (the offer, the message).
    const watcher = await client(s, { token: s.token('admin') });
    const orderSnap = await watcher.sub('order/o1');
    expect(orderSnap.data).toMatchObject({ customer: PHONE, status: 'ready' });
    const requestSnap = await watcher.sub('request/q1');
    const desk = await client(s, { token: s.token('agent', 'a1') });
    const deskSnap = await desk.sub('agent/a1');
    await conversation(s);
    await desk.next((m) => m.topic === 'agent/a1' && m.data?.type === 'offer');
    await watcher.next((m) => m.topic === 'request/q1' && m.data?.type === 'message');
    expect((await get(s, `/v1/customers/${encodeURIComponent(PHONE)}`)).status).toBe(200);

    const [answer] = await send(s, [{ id: 'erase', type: 'customer.erased', customer: EMAIL }]);
    expect(answer).toMatchObject({ ok: true, erased: { ids: 3, orders: 1, requests: 1, messages: 1 } });
    expect(JSON.stringify(answer)).not.toMatch(/c1|phone|email/);
    // The store files are rewritten after the erasure's commit (engine/store-rewrite.ts); /metrics counts it.
    await s.engine.scrubbed();
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^omni_store_rewrites_total 1$/m);
    expect(metrics).toMatch(/^omni_store_rewrite_seconds (?!0$)[0-9.e-]+$/m);

    for (const id of IDS) {
      const path = encodeURIComponent(id);
      expect((await get(s, `/v1/customers/${path}`)).status, id).toBe(404);
      expect((await get(s, `/v1/customers/${path}/recommendations`)).status, id).toBe(404);
      expect((await get(s, `/v1/customers/${path}/orders`)).status, id).toBe(404);
    }
    expect((await get(s, '/v1/requests/q1')).status).toBe(404);
    const order = await get(s, '/v1/orders/o1');
    expect(order.status).toBe(200);
    expect(order.body).toMatchObject({ order: 'o1', status: 'ready', lines: [{ sku: 'A', qty: 1, returned: 0 }] });
    expect(order.body.customer).toBeUndefined();

    // Resuming from before the erasure: a snapshot (without the customer), not the old updates.
    const late = await client(s, { token: s.token('admin') });
    const resumed = await late.sub('order/o1', { since: orderSnap.seq, epoch: orderSnap.epoch });
    expect(resumed.op).toBe('snapshot');
    expect(resumed.data.customer).toBeUndefined();
    const resumedRequest = await late.sub('request/q1', { since: requestSnap.seq, epoch: requestSnap.epoch });
    expect(resumedRequest.op).toBe('snapshot');
    const lateDesk = await client(s, { token: s.token('agent', 'a1') });
    expect((await lateDesk.sub('agent/a1', { since: deskSnap.seq, epoch: deskSnap.epoch })).op).toBe('snapshot');
    expect(JSON.stringify([...late.messages, ...lateDesk.messages])).not.toMatch(/4915100000000|ann@example|"c1"/);

    // The same erasure again is a duplicate with the first answer; another one finds nobody.
    const [again] = await post(s.url, s.token('ingest'), [{ id: 'erase', type: 'customer.erased', customer: EMAIL }]);
    expect(again).toMatchObject({ ok: true, duplicate: true, erased: answer.erased });
    // The link's kept answer listed the ids: a retry of it gets the redacted answer, still a duplicate.
    const [link] = await post(s.url, s.token('ingest'), [{ id: 'link', type: 'identity.linked', ids: [PHONE, EMAIL], customer: 'c1' }]);
    expect(link).toEqual({ id: 'link', ok: true, redacted: true, duplicate: true });
    const [other] = await post(s.url, s.token('admin'), [{ id: 'erase2', type: 'customer.erased', customer: PHONE }]);
    expect(other).toMatchObject({ ok: false, error: { code: 'not_found' } });

    // A later event with a formerly linked id starts a new customer, with nothing of the old one.
    await send(s, [{ id: 'v9', type: 'activity.viewed', subject: PHONE, sku: 'A', channel: 'web', ts: 9_000 }]);
    const fresh = await get(s, `/v1/customers/${encodeURIComponent(PHONE)}`);
    expect(fresh.status).toBe(200);
    expect(JSON.stringify(fresh.body)).not.toMatch(/ann@example|"c1"|"vip"|"o1"|q1/);
  });

  it('only ingest and admin may send it', async () => {
    const s = await server();
    await customer(s);
    await conversation(s);
    for (const role of ['supervisor', 'customer', 'agent', 'associate', 'kiosk'] as const) {
      const [answer] = await post(s.url, s.token(role, 'c1', 'S1'), [{ id: `e-${role}`, type: 'customer.erased', customer: 'c1' }]);
      expect(answer, role).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect((await get(s, '/v1/customers/c1')).status).toBe(200);
  });
});
