// Simulation properties of the router on a pure view: random agents, requests, accepts,
// declines, timeouts (timers fired by a moving clock), completions, status changes, offline,
// desk disconnects with grace. After every step: no offer or assignment to an ineligible agent,
// no agent over capacity, load equal to what its offers and assignments hold, every request in
// exactly one place, and no queued request left with an eligible agent (other than the one it
// was last offered to). At the end every request is served once agents are there. A second
// property: aging bounds how long an old low-priority request waits behind a stream of urgent ones.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentKey, CHANNELS, serviceKeys, type Agent, type ServiceRequest } from '../engine/service/mod.ts';
import { entries } from '../engine/service/ranked-list.ts';
import { FC_SEED, invariantProblems, ServiceRunner } from './service-harness.ts';

const TOPICS = ['billing', 'returns', 'tech'];
const LANGS = ['en', 'de'];
const SIM_CHANNELS = ['chat', 'voice', 'email', 'store'] as const;

interface Profile {
  skills: Record<string, number>;
  capacity: Record<string, number>;
  languages: string[];
}

const profileArb: fc.Arbitrary<Profile> = fc.record({
  skills: fc
    .uniqueArray(fc.tuple(fc.constantFrom(...TOPICS), fc.integer({ min: 1, max: 10 })), { minLength: 1, maxLength: 3, selector: ([t]) => t })
    .map((pairs) => Object.fromEntries(pairs)),
  capacity: fc.record({ chat: fc.integer({ min: 0, max: 3 }), voice: fc.integer({ min: 0, max: 1 }), email: fc.integer({ min: 0, max: 2 }), store: fc.integer({ min: 0, max: 1 }) }),
  languages: fc.subarray(LANGS),
});

const opArb = fc.tuple(fc.integer({ min: 0, max: 99 }), fc.nat(), fc.nat(), fc.nat());

class Sim {
  readonly r = new ServiceRunner({ offerTimeoutMs: 15_000, slaMs: 30_000, agingMs: 30_000, graceMs: 10_000 });
  readonly requests: string[] = [];
  /** Per request, the agent whose offer ended without an accept: its next offer goes elsewhere. */
  private readonly mustSkip = new Map<string, string>();
  private n = 0;
  private steps = 0;

  constructor(readonly profiles: Profile[]) {
    profiles.forEach((p, i) => this.r.online(`a${i}`, p.skills, p.capacity, p.languages));
    this.r.watch = (apply) => {
      const mark = this.r.messages.length;
      const assignedBefore = new Set(this.withStatus('assigned'));
      apply();
      this.checkMessages(mark, assignedBefore);
    };
    this.check();
  }

  agent = (i: number) => `a${i % this.profiles.length}`;
  pick = <T>(list: T[], n: number): T | undefined => (list.length ? list[n % list.length] : undefined);
  withStatus = (status: ServiceRequest['status']) => this.requests.filter((id) => this.r.req(id)?.status === status);

  step([kind, x, y, z]: [number, number, number, number]): void {
    const r = this.r;
    if (kind < 30) {
      const id = `q${this.n++}`;
      this.requests.push(id);
      r.request(id, {
        subject: `c${x % 12}`,
        topic: TOPICS[y % TOPICS.length],
        channel: SIM_CHANNELS[z % SIM_CHANNELS.length],
        ...(x % 3 === 0 ? { language: LANGS[y % 2] } : {}),
        ...(z % 4 === 0 ? { priority: x % 11 } : {}),
      });
    } else if (kind < 50) {
      const id = this.pick(this.withStatus('offered'), x);
      if (id) expect(r.accept(id, r.offeredTo(id)!).result).toMatchObject({ ok: true });
    } else if (kind < 60) {
      const id = this.pick(this.withStatus('offered'), x);
      if (id) {
        this.mustSkip.set(id, r.offeredTo(id)!);
        expect(r.decline(id, r.offeredTo(id)!).result).toMatchObject({ ok: true });
      }
    } else if (kind < 65) {
      // A wrong or late answer must change nothing.
      const id = this.pick(this.requests, x);
      const agent = this.agent(y);
      if (id && r.offeredTo(id) !== agent) {
        const before = r.dump();
        expect(r.accept(id, agent).result.ok).toBe(false);
        expect(r.dump()).toBe(before);
      }
    } else if (kind < 77) {
      r.advance([1000, 5000, 15_000, 31_000][x % 4]);
    } else if (kind < 87) {
      const id = this.pick([...this.withStatus('assigned'), ...this.withStatus('queued')], x);
      if (id) r.complete(id);
    } else if (kind < 91) {
      r.ok({ type: 'agent.status', agent: this.agent(x), status: y % 2 ? 'away' : 'available' });
    } else if (kind < 94) {
      r.ok({ type: 'agent.offline', agent: this.agent(x) });
    } else if (kind < 97) {
      const i = x % this.profiles.length;
      const p = this.profiles[i];
      r.online(`a${i}`, p.skills, p.capacity, p.languages);
    } else {
      r.ok({ type: y % 2 ? 'agent.disconnected' : 'agent.connected', agent: this.agent(x) });
    }
    this.check(++this.steps % 10 === 0);
  }

  /**
   * After each single event or timer: offers only to eligible agents, never twice in a row to
   * one whose offer ended unanswered.
   */
  private checkMessages(from: number, assignedBefore: Set<string>): void {
    for (const { topic, data } of this.r.messages.slice(from) as Array<{ topic: string; data: any }>) {
      // Past its SLA a request may go back to the agent that let it go (else it could wait forever).
      if (topic === 'alerts/service' && data.type === 'sla') this.mustSkip.delete(data.request);
      if (!topic.startsWith('agent/')) continue;
      const agentId = topic.slice('agent/'.length);
      if (data.type === 'offer') {
        const req = this.r.req(data.request);
        const a = this.r.ag(agentId);
        expect(a.online && a.topics.includes(req.topic), `offer of ${req.id} to ${agentId}`).toBe(true);
        if (req.language && !req.breached) expect(a.languages).toContain(req.language);
        expect(a.capacity[CHANNELS.indexOf(req.channel)]).toBeGreaterThan(0);
        expect(this.mustSkip.get(data.request), `offer of ${req.id} to ${agentId} again`).not.toBe(agentId);
        this.mustSkip.delete(data.request);
      } else if (data.type === 'revoked' && data.reason !== 'completed') {
        // An offer that ended unanswered; an assignment or an offer lost to offline binds nothing.
        if (assignedBefore.delete(data.request) || data.reason === 'offline') this.mustSkip.delete(data.request);
        else this.mustSkip.set(data.request, agentId);
      }
    }
  }

  /** The invariants (service-harness.ts); `full` also audits every lane record (slower). */
  check(full = true): void {
    const agentIds = [...this.profiles.map((_, i) => `a${i}`), ...(this.r.ag('drain') ? ['drain'] : [])];
    expect(invariantProblems(this.r.view, this.requests, agentIds)).toEqual([]);
    if (full) this.auditLanes(agentIds.map((id) => this.r.ag(id)));
  }

  /** The lanes hold exactly what the records say: queued requests, and agents with room. */
  private auditLanes(agents: Agent[]): void {
    const r = this.r;
    const actual = new Set<string>();
    for (const key of r.state.keys()) {
      if (!key.startsWith('svc/rl/') && !key.startsWith('svc/al/')) continue;
      for (const e of entries(r.view, key)) actual.add(`${key} ${e.id} ${e.key}`);
    }
    const expected = new Set<string>();
    for (const id of this.withStatus('queued')) {
      const req = r.req(id);
      expected.add(`svc/rl/${req.channel}/${req.breached ? '*' : (req.language ?? '*')}/${req.topic} ${id} ${req.rank}`);
    }
    for (const a of agents) {
      if (!a.online || a.status !== 'available') continue;
      a.topics.forEach((topic, t) => {
        a.capacity.forEach((cap, ch) => {
          if (cap - a.load[ch] <= 0) return;
          for (const l of [...a.languages, '*']) expected.add(`svc/al/${CHANNELS[ch]}/${l}/${topic} ${a.id} ${agentKey(a.levels[t], a.idleSince)}`);
        });
      });
    }
    expect([...actual].sort()).toEqual([...expected].sort());
  }

  /** Every agent back online with room for everything: every request gets served. */
  drain(): void {
    const r = this.r;
    r.online('drain', Object.fromEntries(TOPICS.map((t) => [t, 1])), { chat: 5, voice: 5, email: 5, store: 5 }, LANGS);
    this.profiles.forEach((p, i) => {
      r.online(`a${i}`, p.skills, p.capacity, p.languages);
      r.ok({ type: 'agent.connected', agent: `a${i}` });
      r.ok({ type: 'agent.status', agent: `a${i}`, status: 'available' });
    });
    for (let round = 0; round < 2000; round++) {
      const open = this.requests.filter((id) => r.req(id).status !== 'completed');
      if (open.length === 0) break;
      for (const id of open) {
        const req = r.req(id);
        if (req.status === 'offered') r.accept(id, req.offer!.agent);
        else if (req.status === 'assigned') r.complete(id);
      }
      if (open.every((id) => r.req(id).status === 'queued')) r.advance(31_000);
      this.check(false);
    }
    this.check();
    expect(this.requests.filter((id) => r.req(id).status !== 'completed')).toEqual([]);
  }
}

describe('service routing simulation', () => {
  it('keeps every invariant through random traffic and serves every request in the end', () => {
    fc.assert(
      fc.property(fc.array(profileArb, { minLength: 1, maxLength: 25, size: 'max' }), fc.array(opArb, { minLength: 50, maxLength: 500, size: 'max' }), (profiles, ops) => {
        const sim = new Sim(profiles);
        for (const op of ops) sim.step(op);
        sim.drain();
      }),
      { numRuns: 60, seed: FC_SEED },
    );
  });

  it('aging: an old low-priority request is served within 10 × agingMs of arrivals behind a stream of urgent ones', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 100, max: 5000 }),
        fc.integer({ min: 10, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 1, maxLength: 20 }),
        (priority, agingMs, cycleMs, stream) => {
          const r = new ServiceRunner({ agingMs, slaMs: 10 ** 12, offerTimeoutMs: 10 ** 12 });
          r.online('a', { billing: 5 }, { chat: 1 });
          r.request('busy', { priority: 10 });
          r.accept('busy', 'a');
          r.request('old', { priority });
          // Only requests arriving less than (10 − priority) × agingMs after it can rank ahead.
          const bound = Math.ceil(((10 - priority) * agingMs) / cycleMs) + 2;
          let current = 'busy';
          for (let i = 0; i < bound; i++) {
            r.now += cycleMs;
            r.request(`u${i}`, { priority: stream[i % stream.length] });
            r.complete(current);
            current = r.ag('a').offers[0];
            if (current === 'old') return;
            r.accept(current, 'a');
          }
          expect.fail(`'old' still waiting after ${bound} services (at ${r.render('queue/billing').waiting} waiting)`);
        },
      ),
      { numRuns: 100, seed: FC_SEED },
    );
  });
});

describe('record sizes', () => {
  it('a routing event rewrites only small records, whatever the number of agents and waiting requests', () => {
    const r = new ServiceRunner({ slaMs: 10 ** 12 });
    for (let i = 0; i < 2000; i++) r.online(`a${i}`, { billing: 1 + (i % 10), tech: 3 }, { chat: 1 }, ['en']);
    for (let i = 0; i < 4000; i++) r.request(`q${i}`, { priority: i % 11 });
    const effects = r.request('probe', { language: 'en' });
    const sizes = effects.writes!.map(([key, value]) => [key, JSON.stringify(value ?? null).length] as const);
    for (const [key, size] of sizes) expect(size, key).toBeLessThan(20_000);
    const agent = r.state.get(serviceKeys.agent('a0')) as Agent;
    expect(JSON.stringify(agent).length).toBeLessThan(400);
  });
});
