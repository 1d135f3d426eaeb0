// The routing simulation through the real engine, with restarts: random requests, accepts,
// declines, completions, offline and desk disconnects, the clock moving past offer timeouts,
// SLAs and presence grace, and close + reopen of the engine in between. After every step the
// durable state keeps every invariant (service-harness.ts): a restart loses no request, no offer
// and no assignment, and counts no capacity twice; at the end every request is served.

import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, type Engine } from '../engine/mod.ts';
import { serviceKeys, type ServiceRequest } from '../engine/service/mod.ts';
import type { StateView } from '../engine/types.ts';
import { FC_SEED, invariantProblems } from './service-harness.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TOPICS = ['billing', 'returns'];
const AGENTS = [
  { agent: 'a0', skills: { billing: 9 }, capacity: { chat: 1 }, languages: ['en'] },
  { agent: 'a1', skills: { billing: 4, returns: 7 }, capacity: { chat: 2, voice: 1 } },
  { agent: 'a2', skills: { returns: 3 }, capacity: { chat: 1, voice: 1 }, languages: ['de'] },
];

class EngineSim {
  engine!: Engine;
  readonly clock = { t: 1_700_000_000_000, now: () => this.clock.t };
  readonly requests: string[] = [];
  private n = 0;
  readonly view: StateView = { get: (key) => this.engine.read(key) };

  constructor(private readonly path: string) {}

  async open(): Promise<void> {
    this.engine = await openEngine({ path: this.path, processors: defaultProcessors(), clock: this.clock, autoTimers: false, durability: 'none' });
    // Timers that came due while it was closed fire on open.
    await this.engine.idle();
  }

  async send(event: Record<string, unknown>): Promise<boolean> {
    const [result] = await this.engine.submit([{ id: `e${this.n++}`, ...event }]);
    return result.ok;
  }

  req = (id: string) => this.view.get<ServiceRequest>(serviceKeys.request(id))!;
  withStatus = (status: string) => this.requests.filter((id) => this.req(id).status === status);

  async step([kind, x, y]: [number, number, number]): Promise<void> {
    this.clock.t += 1;
    if (kind < 30) {
      const id = `q${this.requests.length}`;
      this.requests.push(id);
      expect(
        await this.send({
          type: 'service.requested',
          request: id,
          subject: `c${x % 5}`,
          channel: y % 3 ? 'chat' : 'voice',
          topic: TOPICS[x % 2],
          ...(y % 4 === 0 ? { language: 'en' } : {}),
        }),
      ).toBe(true);
    } else if (kind < 55) {
      const id = this.withStatus('offered')[x % Math.max(1, this.withStatus('offered').length)];
      if (id) await this.send({ type: kind < 45 ? 'service.accepted' : 'service.declined', request: id, agent: this.req(id).offer!.agent });
    } else if (kind < 65) {
      const id = this.withStatus('assigned')[x % Math.max(1, this.withStatus('assigned').length)];
      if (id) await this.send({ type: 'service.completed', request: id });
    } else if (kind < 78) {
      this.clock.t += [5_000, 15_000, 31_000][x % 3];
      await this.engine.runDueTimers();
    } else if (kind < 84) {
      await this.send({ type: 'agent.offline', agent: `a${x % 3}` });
    } else if (kind < 88) {
      await this.send({ type: 'agent.online', ...AGENTS[x % 3] });
    } else if (kind < 92) {
      await this.send({ type: 'agent.disconnected', agent: `a${x % 3}` });
    } else {
      await this.engine.close();
      this.clock.t += [0, 12_000, 40_000][x % 3];
      await this.open();
    }
    expect(invariantProblems(this.view, this.requests, AGENTS.map((a) => a.agent))).toEqual([]);
  }
}

describe('service routing through restarts', () => {
  it('keeps every invariant in the durable state across restarts and serves every request in the end', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 99 }), fc.nat(), fc.nat()), { minLength: 20, maxLength: 120, size: 'max' }), async (ops) => {
        const dir = mkdtempSync(join(tmpdir(), 'omni-service-restart-'));
        dirs.push(dir);
        const sim = new EngineSim(join(dir, 'db'));
        await sim.open();
        try {
          for (const a of AGENTS) await sim.send({ type: 'agent.online', ...a });
          for (const op of ops) await sim.step(op);
          // Drain: everyone back with room for every request; accept and complete until done.
          await sim.send({ type: 'agent.online', agent: 'drain', skills: { billing: 1, returns: 1 }, capacity: { chat: 9, voice: 9 }, languages: ['en', 'de'] });
          for (let round = 0; round < 200 && sim.requests.some((id) => sim.req(id).status !== 'completed'); round++) {
            for (const id of sim.withStatus('offered')) await sim.send({ type: 'service.accepted', request: id, agent: sim.req(id).offer!.agent });
            for (const id of sim.withStatus('assigned')) await sim.send({ type: 'service.completed', request: id });
            if (sim.withStatus('offered').length === 0) {
              sim.clock.t += 31_000;
              await sim.engine.runDueTimers();
            }
          }
          expect(sim.requests.filter((id) => sim.req(id).status !== 'completed')).toEqual([]);
        } finally {
          await sim.engine.close();
        }
      }),
      { numRuns: 8, seed: FC_SEED },
    );
  });
});
