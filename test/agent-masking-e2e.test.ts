// Data minimisation through a real engine and gateway, with real tokens: an agent's desk is shown
// a customer's phone and e-mail ids masked — in the offer's 360 context, in the assignment's
// customer name when that name is itself a phone id, in a resumed replay of its topic — and
// nothing else it receives (its GET /v1/requests/:request answers included) holds them whole. A
// supervisor reading the same `agent/<agent>` topic, and the customer export, sees them whole.

import { describe, expect, it } from 'vitest';
import { post, useWsServers, type Msg, type WsClient, type WsServer } from './ws-harness.ts';

const { server, client } = useWsServers();

const PHONE = 'phone:+4915112345600';
const EMAIL = 'email:anna@bhf.co';
/** A customer known by this id alone: the id is its name, the offer's `id` and the assignment's `customer`. */
const PHONE_ONLY = 'phone:+4917098765400';
const MASKED = { phone: 'phone:+49151******00', email: 'email:a***@b.c', phoneOnly: 'phone:+49170******00' };
/** What must never reach an agent: the numbers' hidden digits, the address's letters. */
const RAW = [/4915112345600/, /12345/, /anna/, /bhf\.co/, /4917098765400/, /98765/];

async function send(s: WsServer, events: unknown[]) {
  const answers = await post(s.url, s.token('ingest'), events);
  expect(answers.filter((a) => !a.ok)).toEqual([]);
  await s.engine.idle();
}

async function get(s: WsServer, path: string, token: string) {
  const response = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text() };
}

const update = (c: WsClient, type: string, request: string) =>
  c.next((m) => m.op === 'update' && m.topic === 'agent/a1' && m.data?.type === type && m.data.request === request).then(({ msg }) => msg.data);

describe('an agent sees customers\' phone and e-mail ids masked', () => {
  it('offer context, assignment and replay masked for the agent, whole for a supervisor; no raw id anywhere the agent reads', async () => {
    const s = await server();
    await send(s, [
      { id: 'link', type: 'identity.linked', ids: [PHONE, EMAIL], customer: 'c1' },
      { id: 'prof', type: 'customer.profile', customer: EMAIL, tier: 'vip', language: 'de' },
      { id: 'v1', type: 'activity.viewed', subject: PHONE, sku: 'A', channel: 'web', ts: 1_000 },
      { id: 'desk', type: 'agent.online', agent: 'a1', skills: { billing: 5 }, capacity: { chat: 2 }, languages: ['de'] },
    ]);
    const desk = await client(s, { token: s.token('agent', 'a1') });
    const deskSnap = await desk.sub('agent/a1');
    const boss = await client(s, { token: s.token('supervisor', 'boss') });
    await boss.sub('agent/a1');

    await send(s, [
      { id: 'sq1', type: 'service.requested', request: 'q1', subject: EMAIL, channel: 'chat', topic: 'billing' },
      { id: 'sq2', type: 'service.requested', request: 'q2', subject: PHONE_ONLY, channel: 'chat', topic: 'billing' },
    ]);

    // The offer's context: linked ids masked for the agent, whole for the supervisor; the rest alike.
    const agentOffer = await update(desk, 'offer', 'q1');
    const bossOffer = await update(boss, 'offer', 'q1');
    expect(agentOffer.customer).toMatchObject({ id: 'c1', tier: 'vip', language: 'de', activity: [{ sku: 'A' }] });
    expect(agentOffer.customer.ids).toEqual(expect.arrayContaining([MASKED.phone, MASKED.email]));
    expect(bossOffer.customer.ids).toEqual(expect.arrayContaining([PHONE, EMAIL]));
    expect({ ...agentOffer, customer: { ...agentOffer.customer, ids: undefined } }).toEqual({ ...bossOffer, customer: { ...bossOffer.customer, ids: undefined } });

    // A customer whose name is its phone id: masked as the context's id and as the assignment's customer.
    expect((await update(desk, 'offer', 'q2')).customer.id).toBe(MASKED.phoneOnly);
    expect((await update(boss, 'offer', 'q2')).customer.id).toBe(PHONE_ONLY);
    for (const request of ['q1', 'q2']) {
      desk.send({ op: 'accept', id: `acc-${request}`, request });
      expect((await desk.next((m) => m.ref === `acc-${request}`)).msg).toMatchObject({ op: 'result', ok: true });
    }
    expect((await update(desk, 'assigned', 'q2')).customer).toBe(MASKED.phoneOnly);
    expect((await update(boss, 'assigned', 'q2')).customer).toBe(PHONE_ONLY);
    expect((await update(desk, 'assigned', 'q1')).customer).toBe('c1');

    // Resuming the desk topic replays the kept updates: masked the same way.
    const resumed = await client(s, { token: s.token('agent', 'a1') });
    resumed.send({ op: 'sub', topic: 'agent/a1', since: deskSnap.seq, epoch: deskSnap.epoch });
    const replayedOffer = await update(resumed, 'offer', 'q1');
    expect(replayedOffer.customer.ids).toEqual(expect.arrayContaining([MASKED.phone, MASKED.email]));
    await update(resumed, 'assigned', 'q2');
    expect(resumed.messages.some((m: Msg) => m.op === 'snapshot')).toBe(false);

    // GET /v1/requests/:request: the agent's answer names no customer id; the supervisor reads the same request.
    const agentReads = [await get(s, '/v1/requests/q1', s.token('agent', 'a1')), await get(s, '/v1/requests/q2', s.token('agent', 'a1'))];
    for (const read of agentReads) expect(read.status).toBe(200);
    expect((await get(s, '/v1/requests/q2', s.token('supervisor', 'boss'))).status).toBe(200);

    // Everything the agent received, as text: no raw digit run or address anywhere.
    const agentText = JSON.stringify([desk.messages, resumed.messages, agentReads.map((r) => r.text)]);
    for (const raw of RAW) expect(agentText).not.toMatch(raw);
    expect(agentText).toContain(MASKED.phone);
    // The supervisor's topic and the customer export keep them whole.
    const bossText = JSON.stringify(boss.messages);
    for (const id of [PHONE, EMAIL, PHONE_ONLY]) expect(bossText).toContain(id);
    const exported = await get(s, `/v1/customers/${encodeURIComponent(EMAIL)}`, s.token('supervisor', 'boss'));
    expect(exported.status).toBe(200);
    expect(exported.text).toContain(PHONE);
    expect(exported.text).toContain(EMAIL);
  });
});
