// The `service` scenario: a contact centre as load. The set-up brings `desks` agents online, each
// skilled in a few of the run's service topics with room for 2–3 chats; then every scheduled event
// is a customer's chat request on one of those topics. The agents' desks (desk-group.ts) take the
// offers. Topics carry the run's prefix, so a run's requests are never offered to the agents of an
// earlier run whose desks are still in their presence grace. Deterministic for a seed.

import { chunked, prng } from '../stock-workload.ts';
import type { InputEvent } from '../../engine/mod.ts';
import { SETUP_BODY, type DeskPlan, type EventSource, type SubscriberPlan } from './source.ts';

const TOPICS = ['billing', 'delivery', 'returns', 'product'] as const;
/** Customers asking: a request's subject is one of these, so some join an open conversation. */
const CUSTOMERS = 100_000;
const SEED = 42;

export class ServiceScenario implements EventSource {
  readonly name = 'service';
  readonly desks: DeskPlan;
  /** The desks are its only clients, and it names no SKUs. */
  readonly unusedFlags = ['subscribers', 'skus', 'topics-per-subscriber', 'subscriber-workers'] as const;
  private readonly topics: string[];
  private readonly online: InputEvent[];
  private readonly rand = prng(SEED + 11);
  private n = 0;

  constructor(
    deskCount: number,
    private readonly idPrefix: string,
  ) {
    this.topics = TOPICS.map((t) => `${idPrefix}-${t}`);
    const requestPrefix = `${idPrefix}-rq-`;
    const agents = Array.from({ length: deskCount }, (_, k) => `${idPrefix}-agent-${k}`);
    this.online = this.agentsOnline(agents);
    this.desks = {
      agents,
      chats: this.online.reduce((sum, ev) => sum + (ev.capacity as { chat: number }).chat, 0),
      // Request n is the run's event n, so the run knows when it was scheduled.
      requestIndex: (request) => (request.startsWith(requestPrefix) ? Number(request.slice(requestPrefix.length)) : undefined),
    };
  }

  setup(): InputEvent[][] {
    return chunked(this.online.map((ev) => ({ ...ev })), SETUP_BODY);
  }

  /** One `agent.online` per desk: its own topic round-robin (every topic is covered) plus 0–2 more. */
  private agentsOnline(agents: readonly string[]): InputEvent[] {
    const rand = prng(SEED + 3);
    return agents.map((agent, k) => {
      const skills: Record<string, number> = { [this.topics[k % this.topics.length]]: 1 + Math.floor(rand() * 10) };
      const extra = Math.floor(rand() * 3);
      for (let i = 0; i < extra; i++) skills[this.topics[Math.floor(rand() * this.topics.length)]] ??= 1 + Math.floor(rand() * 10);
      return { id: `${this.idPrefix}-online-${k}`, type: 'agent.online', agent, skills, capacity: { chat: 2 + Math.floor(rand() * 2) } };
    });
  }

  next(): InputEvent {
    const n = this.n++;
    const topic = this.topics[Math.floor(this.rand() * this.topics.length)];
    const subject = `${this.idPrefix}-cust-${Math.floor(this.rand() * CUSTOMERS)}`;
    return { id: `${this.idPrefix}-${n}`, type: 'service.requested', request: `${this.idPrefix}-rq-${n}`, subject, channel: 'chat', topic };
  }

  /** The desks are this scenario's clients; it has no stock watchers. */
  subscribers(): SubscriberPlan[] {
    return [];
  }
}
