// The customer's 360 context in an offer, from what the service domain knows: tier, language,
// and its open and recent past requests in every channel. Linked identities, recent activity
// and orders belong to the customer domain (issue D) and join through
// ServiceOptions.customerContext, a pure function over the same StateView.

import type { ServiceChange } from './change.ts';
import type { ServiceRequest } from './types.ts';

interface RequestSummary {
  request: string;
  channel: string;
  topic: string;
  status: string;
  enqueuedAt: number;
  agent?: string;
  completedAt?: number;
}

function summary(r: ServiceRequest): RequestSummary {
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
  const record = c.customer(r.customer);
  const list = (ids: string[]) => {
    const out: RequestSummary[] = [];
    for (const id of ids) {
      const other = id === r.id ? undefined : c.request(id);
      if (other) out.push(summary(other));
    }
    return out;
  };
  return {
    ...(c.options.customerContext?.(c, r.customer) ?? {}),
    id: r.customer,
    tier: record?.tier ?? 'standard',
    ...(record?.language ? { language: record.language } : {}),
    open: list(record?.open ?? []),
    past: list(record?.past ?? []),
  };
}
