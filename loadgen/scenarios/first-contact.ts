// The customers' side of first contact in the service scenario, decided when each request is
// made: their first words (a question the knowledge base answers, or one it cannot), the channel
// they write on, and what each will do with the answers it gets — so a run is deterministic for
// its seed, and the report can compare what the customers did with what the server counted.
//
// The knowledge base is fixtures/knowledge-base.json (64 entries over 13 topics, English and
// Chinese); the first words are the labelled questions of fixtures/knowledge-base-questions.jsonl:
// those labelled with an entry are the answerable ones (asked on that entry's topic), the others
// (labelled null: "do you sell dog food") on a random topic.

import { readFileSync } from 'node:fs';
import { prng } from '../stock-workload.ts';
import type { InputEvent } from '../../engine/mod.ts';

/** Written on chat most, then social media, then email (the bot answers all three). */
const CHANNELS: ReadonlyArray<[string, number]> = [
  ['chat', 0.6],
  ['social', 0.25],
  ['email', 0.15],
];
/** Of the customers the bot answers with the entry that answers them, the share for whom that is enough. */
const ACCEPTS_BOT_SHARE = 0.7;
/** Of the requests an agent completes, the share whose customer rates it. */
const RATE_SHARE = 0.5;
/** Of the requests an agent completes, the share that the back office opens a case for… */
const CASE_SHARE = 0.1;
/** …and of those, the share it resolves during the run. */
const CASE_RESOLVED_SHARE = 0.5;
/**
 * The scores the customers give, in this order, round and round: 60% 5, 20% 4, 10% 3, 10% 1, so
 * every ten ratings hold exactly that mix (CSAT, the share of 4 and 5, is 0.8) and any first n
 * are close to it.
 */
export const SCORE_CYCLE: readonly number[] = [5, 4, 5, 3, 5, 1, 5, 4, 5, 5];

const FIXTURES = new URL(import.meta.url.endsWith('.ts') ? '../../fixtures/' : '../../../fixtures/', import.meta.url);

export interface FirstWords {
  text: string;
  /** The entry that answers it (the fixture's id), or undefined for a question none answers. */
  faq?: string;
  /** The entry's topic (the fixture's name); undefined for an unanswerable question. */
  topic?: string;
}

interface FaqFixture {
  id: string;
  faq: string;
  topic: string;
}

/** What one customer will do, decided with its request. */
export interface CustomerPlan {
  /** The run's id of the entry that answers its first words; undefined when none does. */
  faq?: string;
  /** A bot answer with that entry is enough for it (`service.resolved`); otherwise it asks for a person. */
  acceptsBot: boolean;
  /** Once an agent has completed its request it rates it. */
  rates: boolean;
  /** Once an agent has completed its request the back office opens a case (and resolves it). */
  caseAfter?: 'open' | 'resolve';
}

/** The knowledge base and the labelled questions, read once. */
export class KnowledgeFixture {
  readonly entries: InputEvent[];
  readonly topics: string[];
  readonly answerable: FirstWords[];
  readonly unanswerable: FirstWords[];

  constructor(dir: URL = FIXTURES) {
    this.entries = JSON.parse(readFileSync(new URL('knowledge-base.json', dir), 'utf8')) as InputEvent[];
    const topicOf = new Map((this.entries as unknown as FaqFixture[]).map((e) => [e.faq, e.topic]));
    this.topics = [...new Set(topicOf.values())].sort();
    const labelled = readFileSync(new URL('knowledge-base-questions.jsonl', dir), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { question: string; faq: string | null });
    this.answerable = labelled.filter((q) => q.faq !== null && topicOf.has(q.faq)).map((q) => ({ text: q.question, faq: q.faq!, topic: topicOf.get(q.faq!)! }));
    this.unanswerable = labelled.filter((q) => q.faq === null).map((q) => ({ text: q.question }));
  }
}

/**
 * Draws each request's first words, channel, topic and customer plan. Names are the run's: an
 * entry `order-status-en` is `<prefix>-order-status-en`, a topic `orders` is `<prefix>-orders`.
 */
export class FirstContact {
  private readonly rand: () => number;
  private readonly plans = new Map<string, CustomerPlan>();

  constructor(
    private readonly kb: KnowledgeFixture,
    /** Share of the customers whose first words the knowledge base answers. */
    readonly kbShare: number,
    private readonly idPrefix: string,
    seed: number,
  ) {
    this.rand = prng(seed);
  }

  /** The run's service topics: the knowledge base's, with the run's prefix. */
  get topics(): string[] {
    return this.kb.topics.map((t) => this.name(t));
  }

  /** The knowledge base as the run's own entries: event ids, entry ids and topics carry its prefix. */
  setup(): InputEvent[] {
    return this.kb.entries.map((ev) => ({ ...ev, id: this.name(ev.id as string), faq: this.name(ev.faq as string), topic: this.name(ev.topic as string) }));
  }

  /** Fills in `request`'s first words, channel and topic, and keeps its customer's plan. */
  request(request: string, pickTopic: () => string): { text: string; channel: string; topic: string } {
    const r = this.rand;
    const answerable = r() < this.kbShare;
    const pool = answerable ? this.kb.answerable : this.kb.unanswerable;
    const words = pool[Math.floor(r() * pool.length)];
    const channel = pick(CHANNELS, r());
    const acceptsBot = r() < ACCEPTS_BOT_SHARE;
    const rates = r() < RATE_SHARE;
    const caseRoll = r();
    const caseAfter = caseRoll < CASE_SHARE * CASE_RESOLVED_SHARE ? 'resolve' : caseRoll < CASE_SHARE ? 'open' : undefined;
    this.plans.set(request, { ...(words.faq ? { faq: this.name(words.faq) } : {}), acceptsBot, rates, ...(caseAfter ? { caseAfter } : {}) });
    return { text: words.text, channel, topic: words.topic ? this.name(words.topic) : pickTopic() };
  }

  /** The plan of `request`'s customer, left in place. */
  planOf(request: string): CustomerPlan | undefined {
    return this.plans.get(request);
  }

  /** The plan of `request`'s customer, once: the customers take it when the request is answered. */
  takePlan(request: string): CustomerPlan | undefined {
    const plan = this.plans.get(request);
    this.plans.delete(request);
    return plan;
  }

  private name(name: string): string {
    return `${this.idPrefix}-${name}`;
  }
}

function pick(weighted: ReadonlyArray<[string, number]>, u: number): string {
  let acc = 0;
  for (const [value, weight] of weighted) {
    acc += weight;
    if (u < acc) return value;
  }
  return weighted[weighted.length - 1][0];
}
