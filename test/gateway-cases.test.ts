// Cases through a real engine and gateway, with real tokens: GET /v1/customers/:subject/cases
// and the cases/<customer> topic for the customer (by any linked id), another customer, every
// other role; topic updates as a case is opened and updated; who may send case events; and the
// data-subject export and an erasure with cases.

import { describe, expect, it } from 'vitest';
import { post, useWsServers, type WsServer, getAs } from './ws-harness.ts';

const { server, client } = useWsServers();

const opened = (id: string, kase: string, subject: string) => ({ id, type: 'case.opened', case: kase, subject, topic: 'refunds', team: 'billing', summary: `about ${kase}` });

/** c1 is also known by its phone; k1 is c1's case (opened by its phone), k2 c2's. */
async function cases(s: WsServer) {
  const answers = await post(s.url, s.token('ingest'), [
    { id: 'link', type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' },
    { id: 'link2', type: 'identity.linked', ids: ['phone:+2'], customer: 'c2' },
    opened('o1', 'k1', 'phone:+1'),
    opened('o2', 'k2', 'c2'),
    { id: 'n1', type: 'case.updated', case: 'k1', status: 'pending', note: 'asked the bank' },
  ]);
  expect(answers.filter((a) => !a.ok)).toEqual([]);
}

describe('GET /v1/customers/:subject/cases', () => {
  it('answers the customer by any linked id, supervisors and admins; others get 403 whether or not the subject exists', async () => {
    const s = await server();
    await cases(s);
    const own = await getAs(s, '/v1/customers/c1/cases', s.token('customer', 'c1'));
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ customer: 'c1', cases: [{ case: 'k1', subject: 'phone:+1', status: 'pending', team: 'billing', notes: [{ status: 'pending', text: 'asked the bank' }] }] });
    expect(own.body.cases).toHaveLength(1);
    expect(await getAs(s, '/v1/customers/phone%3A%2B1/cases', s.token('customer', 'c1'))).toEqual(own);
    expect(await getAs(s, '/v1/customers/c1/cases', s.token('customer', 'phone:+1'))).toEqual(own);

    for (const role of ['supervisor', 'admin'] as const) {
      expect(await getAs(s, '/v1/customers/phone%3A%2B1/cases', s.token(role))).toEqual(own);
      expect(await getAs(s, '/v1/customers/nobody/cases', s.token(role))).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      // Known to the identities, without cases: an empty list.
      await post(s.url, s.token('ingest'), [{ id: `l-${role}`, type: 'identity.linked', ids: ['phone:+3'], customer: 'c3' }]);
      expect(await getAs(s, '/v1/customers/c3/cases', s.token(role))).toEqual({ status: 200, body: { customer: 'c3', cases: [] } });
    }
    expect((await getAs(s, '/v1/customers/c1/cases', s.token('customer', 'c2'))).status).toBe(403);
    expect((await getAs(s, '/v1/customers/nobody/cases', s.token('customer', 'c2'))).status).toBe(403);
    for (const [role, sub, loc] of [['ingest'], ['agent', 'a1'], ['kiosk', 'k1', 'S1'], ['associate', 'staff-1', 'S1']] as const) {
      expect(await getAs(s, '/v1/customers/c1/cases', s.token(role, sub, loc)), role).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    }
    expect((await getAs(s, '/v1/customers/c1/cases')).status).toBe(401);
    expect((await getAs(s, '/v1/customers/%E0%A4%A/cases', s.token('admin'))).status).toBe(400);
  });
});

describe('the cases/<customer> topic', () => {
  it('the customer (by any linked id) and supervisors follow its cases as they are opened and updated; nobody else may subscribe', async () => {
    const s = await server();
    await cases(s);
    const customer = await client(s, { token: s.token('customer', 'phone:+1') });
    expect(await customer.sub('cases/c1')).toMatchObject({ op: 'snapshot', topic: 'cases/c1', data: { customer: 'c1', cases: [{ case: 'k1', status: 'pending' }] } });
    const supervisor = await client(s, { token: s.token('supervisor') });
    expect(await supervisor.sub('cases/c1')).toMatchObject({ op: 'snapshot', data: { customer: 'c1' } });
    const admin = await client(s, { token: s.token('admin') });
    expect(await admin.sub('cases/c2')).toMatchObject({ op: 'snapshot', data: { customer: 'c2', cases: [{ case: 'k2' }] } });

    await post(s.url, s.token('ingest'), [opened('o3', 'k3', 'c1')]);
    const added = await customer.next((m) => m.op === 'update' && m.topic === 'cases/c1' && m.data.cases.length === 2);
    expect(added.msg.data.cases.map((k: { case: string }) => k.case)).toEqual(['k3', 'k1']);
    await post(s.url, s.token('admin'), [{ id: 'r1', type: 'case.updated', case: 'k1', status: 'resolved', note: 'refunded' }]);
    const resolved = await supervisor.next((m) => m.op === 'update' && m.topic === 'cases/c1' && m.data.cases[1]?.status === 'resolved');
    expect(resolved.msg.data.cases[1].notes.map((n: { text: string }) => n.text)).toEqual(['asked the bank', 'refunded']);

    expect(await customer.sub('cases/c2')).toMatchObject({ op: 'error', code: 'forbidden' });
    const other = await client(s, { token: s.token('customer', 'c2') });
    expect(await other.sub('cases/c1')).toMatchObject({ op: 'error', code: 'forbidden' });
    // Anonymous (no token), and every other role.
    for (const token of [undefined, s.token('agent', 'a1'), s.token('kiosk', 'k1', 'S1'), s.token('associate', 'staff-1', 'S1')]) {
      expect(await (await client(s, token === undefined ? {} : { token })).sub('cases/c1')).toMatchObject({ op: 'error', code: 'forbidden' });
    }
  });
});

describe('sending case events', () => {
  it('ingest and admin may; customers and agents may not, even about their own cases', async () => {
    const s = await server();
    await cases(s);
    for (const token of [s.token('customer', 'c1'), s.token('agent', 'a1'), s.token('supervisor')]) {
      const answers = await post(s.url, token, [opened('x', 'k9', 'c1'), { id: 'y', type: 'case.updated', case: 'k1', status: 'resolved' }]);
      expect(answers.map((a) => a.error?.code)).toEqual(['forbidden', 'forbidden']);
    }
    const [unknown, again] = await post(s.url, s.token('admin'), [{ id: 'u', type: 'case.updated', case: 'none', status: 'open' }, opened('o1b', 'k1', 'c1')]);
    expect(unknown).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });
});

describe('the data-subject export and erasure', () => {
  it('the export lists the customer’s cases with their notes; customer.erased removes them', async () => {
    const s = await server();
    await cases(s);
    const exported = await getAs(s, '/v1/customers/phone%3A%2B1', s.token('admin'));
    expect(exported.status).toBe(200);
    expect(exported.body.cases).toEqual((await getAs(s, '/v1/customers/c1/cases', s.token('admin'))).body.cases);
    expect(exported.body.cases[0]).toMatchObject({ case: 'k1', notes: [{ text: 'asked the bank' }] });

    const [erased] = await post(s.url, s.token('admin'), [{ id: 'erase', type: 'customer.erased', customer: 'phone:+1' }]);
    expect(erased).toMatchObject({ ok: true, erased: { cases: 1 } });
    await s.engine.idle();
    expect(await getAs(s, '/v1/customers/c1/cases', s.token('admin'))).toMatchObject({ status: 404 });
    expect(await getAs(s, '/v1/customers/c2/cases', s.token('admin'))).toMatchObject({ status: 200, body: { cases: [{ case: 'k2' }] } });
    // The id is free again: a new case k1 is a new matter.
    expect(await post(s.url, s.token('ingest'), [opened('o1c', 'k1', 'c2')])).toMatchObject([{ ok: true }]);
  });
});
