// How a request ends: completed by its agent, or resolved on the customer's word (by the bot's
// answer or an agent's). Either way its offer is withdrawn or its agent's capacity freed, it
// leaves the queue, its SLA timer is cancelled, and it moves to the customer's past requests.

import type { ServiceChange } from './change.ts';
import { saveRequest } from './indexes.ts';
import { keptPast } from './past-requests.ts';
import { release, without, withdrawOffer } from './routing.ts';
import { keys, timerIds, type CustomerRecord, type ServiceRequest } from './types.ts';

export const isEnded = (r: ServiceRequest): boolean => r.status === 'completed' || r.status === 'resolved';

/**
 * Ends a request not ended yet (status `completed`, or `resolved` by `resolvedBy`). Returns the
 * agent it held, who may take the next request.
 */
export function endRequest(c: ServiceChange, r: ServiceRequest, resolvedBy?: 'bot' | 'agent'): string | undefined {
  const agent = r.agent ?? r.offer?.agent;
  if (r.status === 'offered') withdrawOffer(c, r, resolvedBy === undefined ? 'completed' : 'resolved');
  if (r.status === 'assigned') release(c, r);
  const ended = resolvedBy === undefined ? { status: 'completed' as const } : { status: 'resolved' as const, resolvedBy };
  saveRequest(c, r, { ...without(r, 'offer'), ...ended, completedAt: c.now });
  c.cancelTimer(timerIds.sla(r.id));
  c.cancelTimer(timerIds.botRecheck(r.id));
  return agent;
}

/** The ended request leaves its customer's open requests for the past ones. */
export function moveToPast(c: ServiceChange, r: ServiceRequest): void {
  // The customer may have merged into another since the request was raised (identity.linked).
  const customer = c.ownerOf(r);
  const record = c.customer(customer);
  if (!record) return;
  c.put(keys.customer(customer), {
    ...record,
    open: record.open.filter((id) => id !== r.id),
    past: keptPast(c, customer, [r.id, ...record.past]),
  } satisfies CustomerRecord);
}
