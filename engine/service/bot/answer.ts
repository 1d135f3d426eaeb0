// The bot's answer to a customer's text: the knowledge-base entry it matches, sent as a message
// from `bot` on `request/<id>` in the same effects as the event it answers, and stored with the
// request's messages (the data-subject export and the offer's context read it there). When the
// match is not confident it says it does not know and that a person will answer.

import type { ServiceChange } from '../change.ts';
import { saveRequest } from '../indexes.ts';
import type { KnowledgeMatch } from '../kb/mod.ts';
import { storeMessage, type StoredMessage } from '../message-log.ts';
import { countResponse } from '../stats/mod.ts';
import { topics, type ServiceRequest } from '../types.ts';
import { faqEntry, knowledgeIndex } from './faq.ts';

/** The channels the bot writes in; voice and store are a person's. */
const BOT_CHANNELS: ReadonlySet<string> = new Set(['chat', 'social', 'email']);

// A Map: a language tag such as `constructor` must not find a property every object has.
const DONT_KNOW: ReadonlyMap<string, string> = new Map([
  ['en', "I'm not sure I can answer that. A person will answer you as soon as one is free."],
  ['zh', '这个问题我不确定能回答。客服人员一有空就会回复您。'],
]);

/** The bot may answer `text` on this request: some words, in a channel the bot writes in. */
export function botMayAnswer(r: ServiceRequest, text: string | undefined): text is string {
  return text !== undefined && text.trim().length > 0 && BOT_CHANNELS.has(r.channel);
}

/** The best entry for `text` among those in the request's language (and those without one). */
export function matchFor(c: ServiceChange, r: ServiceRequest, text: string): KnowledgeMatch {
  return knowledgeIndex(c).match(text, r.language);
}

const dontKnow = (language: string | undefined) => DONT_KNOW.get(language?.split('-')[0].toLowerCase() ?? 'en') ?? DONT_KNOW.get('en')!;

/** Sends and stores the bot's answer (or its "don't know"); the first one is the request's first response. */
export function sendAnswer(c: ServiceChange, r: ServiceRequest, match: KnowledgeMatch): void {
  const entry = match.confident ? faqEntry(c, match.faq) : undefined;
  const at = c.now;
  const message: StoredMessage = entry
    ? { from: 'bot', text: entry.answer, at, faq: entry.faq, score: match.score }
    : { from: 'bot', text: dontKnow(r.language), at, score: match.score };
  storeMessage(c, r.id, message);
  c.message(topics.request(r.id), { type: 'message', request: r.id, ...message });
  const current = c.request(r.id)!;
  if (!current.botAnswered) saveRequest(c, current, { ...current, botAnswered: true });
  c.noteStatus(r.id, { bot: true });
  countResponse(c, c.request(r.id)!, 'bot');
}

/** Stores the customer's words given with the request, as its first message. */
export function storeCustomerText(c: ServiceChange, r: ServiceRequest, text: string): void {
  const message: StoredMessage = { from: 'customer', text, at: c.now };
  storeMessage(c, r.id, message);
  c.message(topics.request(r.id), { type: 'message', request: r.id, ...message });
}
