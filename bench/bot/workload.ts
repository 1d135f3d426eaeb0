// What `omni bench bot` sends: a knowledge base of N entries as faq.upserted events (the
// fixture's entries repeated with words of their own, bench/micro/kb-entries.ts) and a stream of
// service.requested events whose texts are the labelled customer questions in turn, each in its
// language, on the chat channel (one the bot answers in), each from a customer of its own.

import type { InputEvent } from '../../engine/mod.ts';
import { fixtureEntries, fixtureQuestions, synthesisedEntries } from '../micro/kb-entries.ts';

/** `count` faq.upserted events with distinct faq ids. */
export function knowledgeBaseEvents(count: number, idPrefix: string): InputEvent[] {
  return synthesisedEntries(fixtureEntries(), count).map((entry, i) => ({ ...entry, id: `${idPrefix}faq-${i}`, type: 'faq.upserted' }));
}

/** The k-th request of a stream: every stream built with the same prefix sends the same texts. */
export class RequestStream {
  private readonly questions = fixtureQuestions();
  private readonly topicOf: Map<string, string>;
  private next = 0;

  constructor(private readonly idPrefix: string) {
    this.topicOf = new Map(fixtureEntries().map((e) => [e.faq, e.topic]));
  }

  request(): InputEvent {
    const k = this.next++;
    const q = this.questions[k % this.questions.length];
    const request = `${this.idPrefix}r${k}`;
    // The topic a customer would pick for it; an unanswerable question goes to a general one.
    const topic = (q.faq === null ? undefined : this.topicOf.get(q.faq)) ?? 'general';
    return { id: request, type: 'service.requested', request, subject: `${this.idPrefix}c${k}`, channel: 'chat', topic, language: q.language, text: q.question };
  }
}
