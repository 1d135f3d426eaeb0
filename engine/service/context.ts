// The customer's 360 context in an offer: its open and recent past requests in every channel
// from the service domain; tier, language, linked identities, recent activity and orders from
// the customer domain, through ServiceOptions.customerProfile and customerContext.

import type { ServiceChange } from './change.ts';
import { messagesUntil, type StoredMessage } from './message-log.ts';
import type { StateView } from '../types.ts';
import type { ServiceRequest } from './types.ts';

export interface RequestSummary {
  request: string;
  channel: string;
  topic: string;
  status: string;
  enqueuedAt: number;
  agent?: string;
  completedAt?: number;
}

export function summary(r: ServiceRequest): RequestSummary {
  return {
    request: r.id,
    channel: r.channel,
    topic: r.topic,
    status: r.status,
    enqueuedAt: r.enqueuedAt,
    ...(r.agent ? { agent: r.agent } : {}),
    ...(r.completedAt !== undefined ? { completedAt: r.completedAt } : {}),
  };
}

export function customerContext(c: ServiceChange, r: ServiceRequest): Record<string, unknown> {
  const customer = c.ownerOf(r);
  const record = c.customer(customer);
  const profile = c.options.customerProfile?.(c, customer);
  const list = (ids: string[]) => {
    const out: RequestSummary[] = [];
    for (const id of ids) {
      const other = id === r.id ? undefined : c.request(id);
      if (other) out.push(summary(other));
    }
    return out;
  };
  return {
    ...(c.options.customerContext?.(c, customer) ?? {}),
    id: customer,
    tier: profile?.tier ?? 'standard',
    ...(profile?.language ? { language: profile.language } : {}),
    open: list(record?.open ?? []),
    past: list(record?.past ?? []),
    ...(r.botAnswered ? { bot: botExchange(c, r.id) } : {}),
  };
}

/** At most this many of the latest lines: a customer may write a lot to a bot. */
const EXCHANGE_KEPT = 50;

/**
 * The request's exchange with the bot before a person took part (its first agent message): read
 * only up to that message, so a long chat with the agent after it costs every re-offer nothing.
 */
export function botExchange(view: StateView, request: string): StoredMessage[] {
  return messagesUntil(view, request, (m) => m.from === 'agent').slice(-EXCHANGE_KEPT);
}
