// A request's messages as stored, and what the service domain holds about one customer's
// requests (the data-subject export, GET /v1/customers/:subject). Each message is a record of
// its own, numbered from 1 under the request, with the count in one small record: a message
// writes two small records rather than rewriting a conversation that grows.

import type { StagedState } from '../staged-state.ts';
import { summary, type RequestSummary } from './context.ts';
import { olderRequests } from './past-requests.ts';
import type { StateView } from '../types.ts';
import { keys, type CustomerRecord, type ServiceRequest } from './types.ts';

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

export function requestMessages(view: StateView, request: string): StoredMessage[] {
  const n = view.get<number>(messageKeys.count(request)) ?? 0;
  const out: StoredMessage[] = [];
  for (let i = 1; i <= n; i++) {
    const m = view.get<StoredMessage>(messageKeys.message(request, i));
    if (m !== undefined) out.push(m);
  }
  return out;
}

export interface RequestExport extends RequestSummary {
  /** The id it was raised with. */
  subject: string;
  priority: number;
  /** Queued as a vip customer's. */
  vip: boolean;
  /** The customer's language, which its agent had to speak (until the service level was breached). */
  language?: string;
  /** It waited unassigned past the service level. */
  breached?: true;
  conversation?: string;
  messages: StoredMessage[];
}

/**
 * The requests the service domain keeps for `customer` (as its own subject resolution names
 * it): open ones oldest first, then completed ones newest first (those past the latest kept in
 * its record too), each with its messages.
 */
export function customerRequests(view: StateView, customer: string): RequestExport[] {
  const record = view.get<CustomerRecord>(keys.customer(customer));
  const out: RequestExport[] = [];
  for (const id of [...(record?.open ?? []), ...(record?.past ?? []), ...olderRequests(view, customer).reverse()]) {
    const r = view.get<ServiceRequest>(keys.request(id));
    if (r === undefined) continue;
    out.push({
      ...summary(r),
      subject: r.subject,
      priority: r.priority,
      vip: r.vip,
      ...(r.language !== undefined ? { language: r.language } : {}),
      ...(r.breached ? { breached: true as const } : {}),
      ...(r.conversation ? { conversation: r.conversation } : {}),
      messages: requestMessages(view, r.id),
    });
  }
  return out;
}
