// `omni bench routing`: its workload is deterministic and valid, and a tiny run of each part
// accounts for every step it takes.

import { describe, expect, it } from 'vitest';
import { defaultProcessors, readEvent } from '../engine/mod.ts';
import { runDecisions } from '../bench/routing/decisions.ts';
import { runSustained } from '../bench/routing/sustained.ts';
import { RoutingWorkload } from '../bench/routing/workload.ts';

const processors = defaultProcessors();
const ownerOf = (type: string) => processors.find((p) => p.types.includes(type))!;

describe('routing workload', () => {
  const make = () => new RoutingWorkload({ agents: 50, topics: 10, freeShare: 0.1, seed: 3, prefix: 'x-' });

  it('is the same for the same seed, and every event is valid', () => {
    const a = make();
    const b = make();
    const events = (w: RoutingWorkload) => [...w.agentEvents(), ...w.profileEvents(), ...Array.from({ length: 200 }, () => w.request()), w.request(w.freeTopics)];
    const ea = events(a);
    expect(ea).toEqual(events(b));
    for (const ev of ea) expect(readEvent(ownerOf, ev)).toEqual(ev);
    expect(new Set(ea.map((e) => e.id)).size).toBe(ea.length);
  });

  it('keeps the free pool on its own topics', () => {
    const w = make();
    expect(w.freeTopics).toEqual(['topic-9']);
    expect(w.freeAgents).toHaveLength(5);
    for (const ev of w.agentEvents()) {
      const skills = Object.keys(ev.skills as object);
      const free = w.freeAgents.includes(ev.agent as string);
      for (const t of skills) expect(w.freeTopics.includes(t)).toBe(free);
    }
    for (let i = 0; i < 50; i++) expect(w.backlogTopics).toContain(w.request().topic);
  });
});

describe('routing bench, part 1 (pure decisions)', () => {
  it('keeps the backlog at its size and counts one decision of each kind per cycle', async () => {
    const samples = 300;
    const r = await runDecisions({ agents: 300, topics: 10, queued: 2000, samples, warmupSamples: 30, seed: 0 });
    expect(r.agentsOnline).toBe(300);
    expect(r.queuedBefore).toBe(2000);
    expect(r.queuedAfter).toBe(2000);
    const n = Object.fromEntries(r.kinds.map((k) => [k.kind, k.count]));
    const miss = (what: string) => r.misses[what] ?? 0;
    expect(n.requested).toBe(samples);
    expect(n.completedIdle).toBe(samples);
    expect(n.queued).toBe(samples);
    expect(n.declined).toBe(samples - miss('requested: no free agent'));
    expect(n.timeout).toBe(n.declined - miss('declined: no next agent'));
    expect(n.completed).toBe(samples);
    expect(n.accepted).toBe(n.timeout - miss('timeout: no next agent') + n.completed - miss('completed: no queued request offered'));
    expect(miss('completed: no queued request offered')).toBe(0);
    expect(miss('queued: routed at once')).toBe(0);
    for (const k of r.kinds) {
      expect(k.writesPerEvent).toBeGreaterThan(0);
      expect(k.p99Ms).toBeGreaterThan(0);
    }
  });
});

describe('routing bench, part 2 (through the engine)', () => {
  it('offers every request it sends and hears every assignment', async () => {
    const r = await runSustained({ agents: 100, topics: 2, rate: 200, seconds: 0.5, warmupSeconds: 0, durability: 'none', thinkMinMs: 10, thinkMaxMs: 50 });
    expect(r.unoffered).toBe(0);
    expect(r.rejected).toEqual({});
    expect(r.revoked).toBe(0);
    expect(r.requestToOffer.count).toBe(100);
    expect(r.acceptToAssigned.count).toBe(100);
  });
});
