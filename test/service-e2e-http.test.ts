// GET /v1/requests/:request and GET /v1/queues against a real gateway: the answers and who may
// read them (docs/protocol.md, sections 2 and 4).

import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { Role } from '../gateway/mod.ts';
import { agentOnline, ManualClock, requested, useServiceServers, type ServiceServer } from './service-e2e-harness.ts';

const { server } = useServiceServers();

/** a1 has r1 (from c1) assigned; r2 (from c2) waits, first in line; r3 (from c3) was completed. */
async function seeded(clock?: ManualClock): Promise<ServiceServer> {
  const s = await server({ clock });
  await s.ingest(
    agentOnline('on-a1', 'a1', 5),
    agentOnline('on-a2', 'a2', 5, { voice: 1 }),
    requested('rq-r3', 'r3', 'c3'),
    { id: 'done-r3', type: 'service.completed', request: 'r3' },
    requested('rq-r1', 'r1', 'c1'),
    { id: 'acc-r1', type: 'service.accepted', request: 'r1', agent: 'a1' },
    requested('rq-r2', 'r2', 'c2'),
  );
  return s;
}

type Caller = [role: Role, sub?: string];

async function statuses(s: ServiceServer, path: string, callers: Caller[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [role, sub] of callers) out[sub ?? role] = (await s.get(path, role, sub)).status;
  return out;
}

describe('GET /v1/requests/:request', () => {
  it('answers status, agent and position without saying whose request it is', async () => {
    const s = await seeded();
    expect(await s.get('/v1/requests/r1', 'customer', 'c1')).toEqual({ status: 200, body: { request: 'r1', status: 'assigned', agent: 'a1' } });
    expect(await s.get('/v1/requests/r2', 'customer', 'c2')).toEqual({ status: 200, body: { request: 'r2', status: 'queued', position: 1 } });
    expect(await s.get('/v1/requests/r3', 'customer', 'c3')).toEqual({ status: 200, body: { request: 'r3', status: 'completed' } });
    const packed = await fetch(`${s.url}/v1/requests/r1`, { headers: { accept: 'application/msgpack', authorization: `Bearer ${s.token('admin')}` } });
    expect(unpack(Buffer.from(await packed.arrayBuffer()))).toEqual({ request: 'r1', status: 'assigned', agent: 'a1' });
  });

  it('is readable by its customer, its assigned agent and the roles that read everything', async () => {
    const s = await seeded();
    const callers: Caller[] = [
      ['anonymous'],
      ['customer', 'c1'],
      ['customer', 'c2'],
      ['agent', 'a1'],
      ['agent', 'a2'],
      ['kiosk', 'k1'],
      ['supervisor'],
      ['ingest'],
      ['admin'],
    ];
    expect(await statuses(s, '/v1/requests/r1', callers)).toEqual({
      anonymous: 401,
      c1: 200,
      c2: 403,
      a1: 200,
      a2: 403,
      k1: 403,
      supervisor: 200,
      ingest: 200,
      admin: 200,
    });
    // Queued: no agent has it yet, so no agent reads it.
    expect(await statuses(s, '/v1/requests/r2', [['customer', 'c2'], ['agent', 'a1'], ['agent', 'a2']])).toEqual({ c2: 200, a1: 403, a2: 403 });
    // Completed: the agent that had it no longer reads it; its customer still does.
    expect(await statuses(s, '/v1/requests/r3', [['customer', 'c3'], ['agent', 'a1']])).toEqual({ c3: 200, a1: 403 });
  });

  it('does not tell customers and agents which ids exist; readers of everything get 404', async () => {
    const s = await seeded();
    expect(await statuses(s, '/v1/requests/nope', [['customer', 'c1'], ['agent', 'a1'], ['supervisor'], ['admin']])).toEqual({
      c1: 403,
      a1: 403,
      supervisor: 404,
      admin: 404,
    });
    const bad = await s.get('/v1/requests/%E0%A4%A', 'admin');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect((await s.get('/v1/requests/a@b', 'admin')).status).toBe(404);
    const forged = await fetch(`${s.url}/v1/requests/r1`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(forged.status).toBe(401);
    expect((await fetch(`${s.url}/v1/requests/r1`, { method: 'POST' })).status).toBe(405);
  });
});

describe('GET /v1/queues', () => {
  it('gives each topic its waiting count, longest wait as of now, agents available and SLA breaches', async () => {
    const clock = new ManualClock();
    const s = await seeded(clock);
    clock.advance(2500);
    const { status, body } = await s.get('/v1/queues', 'agent', 'a2');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['billing']);
    expect(body.billing).toMatchObject({ topic: 'billing', waiting: 1, longestWaitMs: 2500, agentsAvailable: 2, slaBreaches: 0, asOf: clock.now() });
  });

  it('is readable by agents, supervisors, ingest and admin only', async () => {
    const s = await seeded();
    const callers: Caller[] = [['anonymous'], ['customer', 'c1'], ['kiosk', 'k1'], ['agent', 'a1'], ['supervisor'], ['ingest'], ['admin']];
    expect(await statuses(s, '/v1/queues', callers)).toEqual({ anonymous: 401, c1: 403, k1: 403, a1: 200, supervisor: 200, ingest: 200, admin: 200 });
  });
});
