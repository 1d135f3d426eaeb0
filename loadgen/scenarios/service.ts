// The `service` scenario: a contact centre as load. The set-up brings `desks` agents online, each
// skilled in a few of the run's service topics with room for 2–3 chats; then every scheduled event
// is a customer's request on one of those topics. The agents' desks (desk-group.ts) take the
// offers. Topics carry the run's prefix, so a run's requests are never offered to the agents of an
// earlier run whose desks are still in their presence grace. Deterministic for a seed.
//
// With first contact (first-contact.ts) the set-up also loads the knowledge base, the topics are
// the knowledge base's, each request carries the customer's first words on chat, social or email,
// and the desks take social and email requests too.

import { chunked, prng } from '../stock-workload.ts';
import type { InputEvent } from '../../engine/mod.ts';
import { FirstContact, KnowledgeFixture } from './first-contact.ts';
import { SETUP_BODY, type DeskPlan, type EventSource, type SubscriberPlan } from './source.ts';

const TOPICS = ['billing', 'delivery', 'returns', 'product'] as const;
/** Customers asking: a request's subject is one of these, so some join an open conversation. */
const CUSTOMERS = 100_000;
const SEED = 42;

export interface FirstContactOptions {
  /** Share of the customers whose first words the knowledge base answers. */
  kbShare: number;
}

export class ServiceScenario implements EventSource {
  readonly name = 'service';
  readonly desks: DeskPlan;
  /** The desks are its only clients, and it names no SKUs. */
  readonly unusedFlags = ['subscribers', 'skus', 'topics-per-subscriber', 'subscriber-workers'] as const;
  /** The customers' first words and plans; undefined without first contact. */
  readonly firstContact: FirstContact | undefined;
  private readonly topics: string[];
  private readonly online: InputEvent[];
  private readonly rand = prng(SEED + 11);
  private n = 0;

  constructor(
    deskCount: number,
    private readonly idPrefix: string,
    firstContact?: FirstContactOptions,
  ) {
    this.firstContact = firstContact === undefined ? undefined : new FirstContact(new KnowledgeFixture(), firstContact.kbShare, idPrefix, SEED + 17);
    this.topics = this.firstContact?.topics ?? TOPICS.map((t) => `${idPrefix}-${t}`);
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
    const knowledge = this.firstContact?.setup() ?? [];
    return chunked([...knowledge, ...this.online.map((ev) => ({ ...ev }))], SETUP_BODY);
  }

  /**
   * One `agent.online` per desk: its own topic round-robin (every topic is covered; with fewer
   * desks than topics each desk takes every desks-th topic) plus 0–2 more.
   */
  private agentsOnline(agents: readonly string[]): InputEvent[] {
    const rand = prng(SEED + 3);
    const topics = this.topics;
    return agents.map((agent, k) => {
      const skills: Record<string, number> = {};
      for (let t = k % topics.length; t < topics.length; t += agents.length) skills[topics[t]] = 1 + Math.floor(rand() * 10);
      const extra = Math.floor(rand() * 3);
      for (let i = 0; i < extra; i++) skills[topics[Math.floor(rand() * topics.length)]] ??= 1 + Math.floor(rand() * 10);
      const chat = 2 + Math.floor(rand() * 2);
      // Social posts and emails wait in their own lanes: with first contact every desk takes one of each at a time too.
      const capacity = this.firstContact ? { chat, social: 1, email: 1 } : { chat };
      return { id: `${this.idPrefix}-online-${k}`, type: 'agent.online', agent, skills, capacity };
    });
  }

  next(): InputEvent {
    const n = this.n++;
    const topic = () => this.topics[Math.floor(this.rand() * this.topics.length)];
    const subjectOf = () => `${this.idPrefix}-cust-${Math.floor(this.rand() * CUSTOMERS)}`;
    const request = `${this.idPrefix}-rq-${n}`;
    if (this.firstContact === undefined) {
      const t = topic();
      return { id: `${this.idPrefix}-${n}`, type: 'service.requested', request, subject: subjectOf(), channel: 'chat', topic: t };
    }
    const subject = subjectOf();
    const { text, channel, topic: t } = this.firstContact.request(request, topic);
    return { id: `${this.idPrefix}-${n}`, type: 'service.requested', request, subject, channel, topic: t, text };
  }

  /** The desks are this scenario's clients; it has no stock watchers. */
  subscribers(): SubscriberPlan[] {
    return [];
  }
}
