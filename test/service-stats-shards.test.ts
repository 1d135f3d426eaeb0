// The service figures' shards per agent grew (16 → 64, so a completion rewrites a small bucket
// with thousands of agents online): buckets kept from before, with an agent's rows in the shard
// a count of 16 gave it, are still read, summed with the rows counted since in its new shard,
// and pruned after 24 h.

import { describe, expect, it } from 'vitest';
import { serviceStats, type ServiceStats } from '../engine/service/stats/mod.ts';
import { shardOf, SHARDS } from '../engine/service/stats/types.ts';
import { ServiceRunner } from './service-harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T = 28_333_333 * MINUTE;
const OLD_AGENT_SHARDS = 16;

/** An agent id whose shard under 16 shards is not its shard now. */
function agentMovedByTheShardCount(): string {
  for (let i = 0; i < 1000; i++) {
    const id = `agent-${i}`;
    if (shardOf('agent', id) % OLD_AGENT_SHARDS !== shardOf('agent', id)) return id;
  }
  throw new Error('no agent id changes shard: the agents have no more shards than 16');
}

/** Moves every agent bucket and slot list of shard `from` to shard `to`, as a data dir from before the change holds them. */
function moveShard(r: ServiceRunner, from: number, to: number): void {
  for (const key of [...r.state.keys()].filter((k) => k.startsWith(`svc/fig/agent/${from}/`))) {
    r.state.set(key.replace(`svc/fig/agent/${from}/`, `svc/fig/agent/${to}/`), r.state.get(key));
    r.state.delete(key);
  }
}

function handle(r: ServiceRunner, request: string, agent: string): void {
  r.ok({ type: 'service.requested', request, subject: `s-${request}`, channel: 'chat', topic: 'billing' });
  expect(r.offeredTo(request)).toBe(agent);
  r.now += 1_000;
  r.ok({ type: 'service.accepted', request, agent });
  r.now += 1_000;
  r.ok({ type: 'service.message', request, from: 'agent', text: 'Hello.' });
  r.now += 30_000;
  r.ok({ type: 'service.completed', request });
}

describe('service figures by agent across a change of the shard count', () => {
  it('reads, sums and prunes rows kept in an agent’s shard of 16', () => {
    expect(SHARDS.agent % OLD_AGENT_SHARDS).toBe(0);
    const agent = agentMovedByTheShardCount();
    const now = shardOf('agent', agent);
    const before = now % OLD_AGENT_SHARDS;
    const r = new ServiceRunner({ bot: 'off', offerTimeoutMs: 1_000 * HOUR, slaMs: 1_000 * HOUR } as never);
    r.now = T;
    r.online(agent, { billing: 5 }, { chat: 5 });
    handle(r, 'q1', agent);
    moveShard(r, now, before);
    const byAgent = () => serviceStats(r.view, { now: r.now, window: '1h', by: 'agent' }) as ServiceStats;
    expect(byAgent().groups).toEqual([expect.objectContaining({ key: agent, requests: 1, abandonment: 0 })]);

    r.now = T + 5 * MINUTE;
    handle(r, 'q2', agent);
    expect(r.state.has(`svc/fig/agent/${now}/minutes`)).toBe(true);
    expect(byAgent().groups).toEqual([expect.objectContaining({ key: agent, requests: 2, abandonment: 0 })]);
    expect(byAgent().total.requests).toBe(2);

    // A day later any count prunes every shard, the old one included.
    r.now = T + 25 * HOUR;
    r.ok({ type: 'service.requested', request: 'q3', subject: 's-q3', channel: 'chat', topic: 'billing' });
    expect([...r.state.keys()].filter((k) => /^svc\/fig\/agent\/\d+\/(m|h)\//.test(k))).toEqual([]);
    expect(byAgent().groups).toEqual([]);
  });
});
