// A request's messages as stored. Each message is a record of its own, numbered from 1 under the
// request, with the count in one small record: a message writes two small records rather than
// rewriting a conversation that grows. (Apart from messages.ts so that the offer's context can
// read a request's exchange with the bot without an import circle.)

import type { StagedState } from '../staged-state.ts';
import type { StateView } from '../types.ts';

export interface StoredMessage {
  from: 'customer' | 'agent' | 'bot';
  text: string;
  /** The bot's: the knowledge-base entry it answered from (only when confident). */
  faq?: string;
  /** The bot's: how well the customer's text matched (0..1). */
  score?: number;
  /** Event time (or the clock when the event had none), epoch ms. */
  at: number;
}

const messageKeys = {
  count: (request: string) => `svc/msgs/${request}`,
  /** The number leads so that no request id (which may hold '/') can make it another's key. */
  message: (request: string, n: number) => `svc/msg/${n}/${request}`,
};

export function storeMessage(state: StagedState, request: string, message: StoredMessage): void {
  const n = (state.get<number>(messageKeys.count(request)) ?? 0) + 1;
  state.put(messageKeys.count(request), n);
  state.put(messageKeys.message(request, n), message);
}

/** Deletes a request's stored messages; returns how many there were. */
export function forgetMessages(state: StagedState, request: string): number {
  const n = state.get<number>(messageKeys.count(request)) ?? 0;
  for (let i = 1; i <= n; i++) state.put(messageKeys.message(request, i), undefined);
  if (n > 0) state.put(messageKeys.count(request), undefined);
  return n;
}

/** A request's first message (the customer's first words, when it came with them). */
export function firstMessage(view: StateView, request: string): StoredMessage | undefined {
  return view.get<StoredMessage>(messageKeys.message(request, 1));
}

export function requestMessages(view: StateView, request: string): StoredMessage[] {
  return messagesUntil(view, request, () => false);
}

/** A request's messages in order, read one by one up to (not including) the first that `stop` accepts. */
export function messagesUntil(view: StateView, request: string, stop: (m: StoredMessage) => boolean): StoredMessage[] {
  const n = view.get<number>(messageKeys.count(request)) ?? 0;
  const out: StoredMessage[] = [];
  for (let i = 1; i <= n; i++) {
    const m = view.get<StoredMessage>(messageKeys.message(request, i));
    if (m === undefined) continue;
    if (stop(m)) break;
    out.push(m);
  }
  return out;
}
