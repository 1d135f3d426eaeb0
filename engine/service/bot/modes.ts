// When the bot answers (ServiceOptions.bot):
// - first: a chat, social or email request with text is answered by the bot before any person;
//   a confident answer leaves it waiting on the customer (status `bot`), otherwise the bot says
//   it does not know and the request is queued as usual. A later customer message on a `bot`
//   request gets another answer, or, when the bot has none, is handed to a person.
// - overflow: every request is queued and routed as usual; one still waiting (no offer) whose
//   predicted wait exceeds targetWaitMs (or that no agent could take) is answered by the bot as
//   well, keeping its place in the queue; one left to a person is looked at again halfway to
//   the target (botRecheck).
// - off: never; the knowledge base is still kept.

import type { ServiceChange } from '../change.ts';
import type { KnowledgeMatch } from '../kb/mod.ts';
import { firstMessage } from '../message-log.ts';
import { timerIds, type ServiceRequest } from '../types.ts';
import { botMayAnswer, matchFor, sendAnswer, storeCustomerText } from './answer.ts';
import { handToPerson, notePredictedWait } from './escalation.ts';
import { predictedWaitMs } from './predicted-wait.ts';

/**
 * Mode first, before the new request is saved: the bot's match for its words (confident: the bot
 * takes it), which botBeforeRouting then sends; undefined when the bot does not answer first.
 */
export function botFirstMatch(c: ServiceChange, r: ServiceRequest, text: string | undefined): KnowledgeMatch | undefined {
  return c.options.bot === 'first' && botMayAnswer(r, text) ? matchFor(c, r, text) : undefined;
}

/**
 * Once the new request is saved, before it is routed: the customer's words stored and, in mode
 * first, the bot's answer sent, so that an offer made at once carries the exchange.
 */
export function botBeforeRouting(c: ServiceChange, r: ServiceRequest, text: string | undefined, first: KnowledgeMatch | undefined): void {
  if (text !== undefined && text.trim().length > 0) storeCustomerText(c, r, text);
  if (first !== undefined) sendAnswer(c, r, first);
}

/** Once the new request is routed: its predicted wait, and in mode overflow the bot's answer when that is too long. */
export function botAfterRequested(c: ServiceChange, r: ServiceRequest, text: string | undefined): void {
  if (c.request(r.id)!.status !== 'queued') return;
  notePredictedWait(c, r.id);
  if (c.options.bot !== 'overflow' || !botMayAnswer(r, text)) return;
  const wait = c.statusNotes.get(r.id)?.predictedWaitMs as number | null;
  if (wait === null || wait > c.options.targetWaitMs) sendAnswer(c, r, matchFor(c, r, text));
  // A prediction can be wrong (a lane that drained fast may slow down): halfway to the target
  // the bot looks again, so a customer still waiting then is answered before the target.
  else c.setTimer(timerIds.botRecheck(r.id), r.enqueuedAt + Math.floor(c.options.targetWaitMs / 2), { kind: 'bot', request: r.id });
}

/** Overflow, halfway to the target wait: a request still queued whose wait now looks too long gets the bot's answer. */
export function botRecheck(c: ServiceChange, request: string): void {
  const r = c.request(request);
  if (r === undefined || r.status !== 'queued' || r.botAnswered || c.options.bot !== 'overflow') return;
  const words = firstMessage(c, r.id);
  if (words?.from !== 'customer' || !botMayAnswer(r, words.text)) return;
  const wait = predictedWaitMs(c, r);
  if (wait === null || wait === undefined || c.now - r.enqueuedAt + wait > c.options.targetWaitMs) sendAnswer(c, r, matchFor(c, r, words.text));
}

export function botAfterCustomerMessage(c: ServiceChange, r: ServiceRequest, text: string): void {
  if (r.status !== 'bot') return;
  const match = c.options.bot === 'off' ? undefined : matchFor(c, r, text);
  if (match !== undefined) sendAnswer(c, r, match);
  if (!match?.confident) handToPerson(c, c.request(r.id)!);
}
