// The service processor through the real engine (LMDB, group commit, durable timers): an offer
// made before a restart times out after it and goes to the next agent; an SLA timer survives a
// restart too; capacity stays counted once across it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, type Engine, type Output } from '../engine/mod.ts';
import { serviceKeys, type Agent, type ServiceRequest } from '../engine/service/mod.ts';

let dir: string;
let clock: { t: number; now(): number };
const open: Engine[] = [];

async function start(): Promise<{ engine: Engine; outputs: Output[] }> {
  const engine = await openEngine({ path: join(dir, 'db'), processors: defaultProcessors(), clock, autoTimers: false });
  open.push(engine);
  const outputs: Output[] = [];
  engine.onOutput((batch) => outputs.push(...batch));
  return { engine, outputs };
}

async function stop(engine: Engine): Promise<void> {
  await engine.close();
  open.splice(open.indexOf(engine), 1);
}

const on = (outputs: Output[], topic: string) => outputs.filter((o) => o.topic === topic).map((o) => o.data);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omni-service-'));
  clock = { t: 1_700_000_000_000, now() { return this.t; } };
});
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('service routing on the engine', () => {
  it('an offer made before a restart times out after it and goes to the next agent', async () => {
    let { engine, outputs } = await start();
    const answers = await engine.submit([
      { id: 'e1', type: 'agent.online', agent: 'a1', skills: { billing: 9 }, capacity: { chat: 1 } },
      { id: 'e2', type: 'agent.online', agent: 'a2', skills: { billing: 5 }, capacity: { chat: 1 } },
      { id: 'e3', type: 'service.requested', request: 'r1', subject: 'c1', channel: 'chat', topic: 'billing' },
    ]);
    expect(answers[2]).toEqual({ id: 'e3', ok: true, request: 'r1', status: 'offered' });
    expect(on(outputs, 'agent/a1')).toEqual([expect.objectContaining({ type: 'offer', request: 'r1', expiresAt: clock.t + 15_000 })]);
    await stop(engine);

    clock.t += 15_000;
    ({ engine, outputs } = await start());
    // Due while the engine was down: fired on start.
    await engine.idle();
    expect(on(outputs, 'agent/a1')).toEqual([{ type: 'revoked', request: 'r1', reason: 'timeout' }]);
    expect(on(outputs, 'agent/a2')).toEqual([expect.objectContaining({ type: 'offer', request: 'r1', expiresAt: clock.t + 15_000 })]);
    expect(on(outputs, 'request/r1')).toEqual([{ type: 'status', request: 'r1', status: 'offered' }]);
    expect(engine.read<ServiceRequest>(serviceKeys.request('r1'))).toMatchObject({ status: 'offered', offer: { agent: 'a2' }, lastAgent: 'a1' });
    expect(engine.read<Agent>(serviceKeys.agent('a1'))?.load[0]).toBe(0);

    const [late, ok, again] = await engine.submit([
      { id: 'e4', type: 'service.accepted', request: 'r1', agent: 'a1' },
      { id: 'e5', type: 'service.accepted', request: 'r1', agent: 'a2' },
      { id: 'e6', type: 'service.accepted', request: 'r1', agent: 'a2' },
    ]);
    expect([late, ok, again].map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['no_offer', 'ok', 'conflict']);
    expect(engine.read<Agent>(serviceKeys.agent('a2'))?.load[0]).toBe(1);
    // What the gateway's permission lookup and GET /v1/requests/:request read.
    expect(engine.snapshot('request/r1')?.data).toEqual({ request: 'r1', status: 'assigned', agent: 'a2', customer: 'c1', subject: 'c1' });
    expect(engine.snapshot('queue/billing')?.data).toMatchObject({ waiting: 0, offered: 0, agentsAvailable: 2, agentsEligible: 1 });
    // The assignment ended both timers: nothing fires later.
    clock.t += 60_000;
    expect(await engine.runDueTimers()).toBe(0);
  });

  it('an SLA timer survives a restart: alert on alerts/service, then the wider offer', async () => {
    let { engine, outputs } = await start();
    await engine.submit([
      { id: 'e1', type: 'agent.online', agent: 'en', skills: { billing: 9 }, capacity: { chat: 1 }, languages: ['en'] },
      { id: 'e2', type: 'service.requested', request: 'r1', subject: 'c1', channel: 'chat', topic: 'billing', language: 'fi' },
    ]);
    expect(engine.snapshot('queue/billing')?.data).toMatchObject({ waiting: 1, agentsEligible: 1 });
    await stop(engine);

    clock.t += 30_000;
    ({ engine, outputs } = await start());
    await engine.runDueTimers();
    expect(on(outputs, 'alerts/service')).toEqual([{ type: 'sla', request: 'r1', topic: 'billing', channel: 'chat', waitedMs: 30_000, language: 'fi' }]);
    expect(on(outputs, 'agent/en')).toEqual([expect.objectContaining({ type: 'offer', request: 'r1' })]);
    expect(engine.snapshot('queue/billing')?.data).toMatchObject({ waiting: 0, offered: 1, slaBreaches: 1 });
  });
});
