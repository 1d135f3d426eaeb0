// What the service domain holds about one customer's requests (the data-subject export,
// GET /v1/customers/:subject): each request with its messages (stored as message-log.ts keeps them).

import { summary, type RequestSummary } from './context.ts';
import { requestMessages, type StoredMessage } from './message-log.ts';
import { olderRequests } from './past-requests.ts';
import type { StateView } from '../types.ts';
import { keys, type CustomerRecord, type ServiceRequest } from './types.ts';

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
  /** When its (last) agent accepted it. */
  assignedAt?: number;
  /** The knowledge-base bot answered it (its messages say what). */
  botAnswered?: true;
  /** Resolved on the customer's word: by the bot's answer or an agent's. */
  resolvedBy?: 'bot' | 'agent';
  /** The customer's rating (service.rated) and when it was given. */
  rating?: { score: number; comment?: string };
  ratedAt?: number;
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
      ...(r.assignedAt !== undefined ? { assignedAt: r.assignedAt } : {}),
      ...(r.botAnswered ? { botAnswered: true as const } : {}),
      ...(r.resolvedBy ? { resolvedBy: r.resolvedBy } : {}),
      ...(r.rating !== undefined ? { rating: r.rating, ratedAt: r.ratedAt } : {}),
      messages: requestMessages(view, r.id),
    });
  }
  return out;
}
