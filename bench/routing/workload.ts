// The service-routing bench's workload: agents (skills over topics with levels 1–10, chat 3 +
// voice 1, English plus maybe one more language), customers (some VIP) and requests, all from a
// seeded PRNG so every run routes the same way. Topics may be split in two: "backlog" topics,
// whose agents are kept full so their requests queue, and "free" topics, whose agents stay
// free, so a request there is routed to an agent at once while the backlog waits elsewhere.

import type { InputEvent } from '../../engine/mod.ts';
import { prng } from '../../loadgen/mod.ts';

export const LANGUAGES = ['en', 'de', 'fr', 'es'] as const;
export const CAPACITY = { chat: 3, voice: 1 } as const;
/** Share of requests that need a language (the rest take any agent of the topic). */
const LANGUAGE_SHARE = 0.3;
const VOICE_SHARE = 0.2;
/** Customers per agent, and the share of them that are VIP. */
const CUSTOMERS_PER_AGENT = 20;
const VIP_SHARE = 0.05;

export interface RoutingWorkloadOptions {
  agents: number;
  topics: number;
  /** Share of agents (and, at least one, of topics) kept free of any backlog; 0: one pool. */
  freeShare: number;
  seed: number;
  /** Prefix of every id, so runs on one data dir never collide. */
  prefix: string;
}

export class RoutingWorkload {
  readonly backlogTopics: string[];
  readonly freeTopics: string[];
  readonly backlogAgents: string[] = [];
  readonly freeAgents: string[] = [];
  private readonly rand: () => number;
  private readonly customers: number;
  private nextRequest = 0;
  private nextEvent = 0;

  constructor(readonly o: RoutingWorkloadOptions) {
    this.rand = prng(o.seed);
    const all = Array.from({ length: o.topics }, (_, i) => `topic-${i}`);
    const free = o.freeShare > 0 ? Math.max(1, Math.round(o.topics * o.freeShare)) : 0;
    if (free >= o.topics && free > 0) throw new Error('routing workload: a free pool needs at least 2 topics');
    this.freeTopics = all.slice(all.length - free);
    this.backlogTopics = all.slice(0, all.length - free);
    const freeAgents = free > 0 ? Math.max(3, Math.round(o.agents * o.freeShare)) : 0;
    for (let i = 0; i < o.agents; i++) (i < freeAgents ? this.freeAgents : this.backlogAgents).push(`${o.prefix}a${i}`);
    this.customers = o.agents * CUSTOMERS_PER_AGENT;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  id(): string {
    return `${this.o.prefix}e${this.nextEvent++}`;
  }

  /** One `agent.online` per agent: 2–5 skills (distinct topics of its pool), levels 1–10. */
  agentEvents(): InputEvent[] {
    const events: InputEvent[] = [];
    const make = (agent: string, pool: string[]) => {
      const skills: Record<string, number> = {};
      const n = Math.min(pool.length, 2 + this.int(4));
      while (Object.keys(skills).length < n) skills[pool[this.int(pool.length)]] = 1 + this.int(10);
      const languages = this.rand() < 0.5 ? ['en'] : ['en', LANGUAGES[1 + this.int(LANGUAGES.length - 1)]];
      events.push({ id: this.id(), type: 'agent.online', agent, skills, capacity: { ...CAPACITY }, languages });
    };
    for (const a of this.freeAgents) make(a, this.freeTopics);
    for (const a of this.backlogAgents) make(a, this.backlogTopics);
    return events;
  }

  /** `customer.profile` for the VIP customers (the others are standard without a record). */
  profileEvents(): InputEvent[] {
    const events: InputEvent[] = [];
    const step = Math.round(1 / VIP_SHARE);
    for (let c = 0; c < this.customers; c += step) events.push({ id: this.id(), type: 'customer.profile', customer: this.customer(c), tier: 'vip' });
    return events;
  }

  private customer(n: number): string {
    return `${this.o.prefix}c${n}`;
  }

  /** A new `service.requested` on one of `topics` (default: the backlog topics). */
  request(topics: readonly string[] = this.backlogTopics): InputEvent {
    const language = this.rand() < LANGUAGE_SHARE ? LANGUAGES[this.int(LANGUAGES.length)] : undefined;
    return {
      id: this.id(),
      type: 'service.requested',
      request: `${this.o.prefix}r${this.nextRequest++}`,
      subject: this.customer(this.int(this.customers)),
      channel: this.rand() < VOICE_SHARE ? 'voice' : 'chat',
      topic: topics[this.int(topics.length)],
      priority: this.rand() < 0.1 ? 1 + this.int(10) : 0,
      ...(language ? { language } : {}),
    };
  }

  event(type: string, fields: Record<string, unknown>): InputEvent {
    return { id: this.id(), type, ...fields };
  }
}

/** The offers in a list of messages (effects or engine outputs): each `agent/<id>` offer. */
export function offersIn(messages: ReadonlyArray<{ topic: string; data: unknown }>): Array<{ agent: string; request: string }> {
  const out: Array<{ agent: string; request: string }> = [];
  for (const m of messages) {
    const d = m.data as { type?: string; request?: string } | undefined;
    if (d?.type === 'offer' && m.topic.startsWith('agent/')) out.push({ agent: m.topic.slice('agent/'.length), request: d.request! });
  }
  return out;
}
