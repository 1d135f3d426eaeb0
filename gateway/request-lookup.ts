// Who a service request belongs to, read from the engine's committed `request/<id>` state. The
// permission rules (auth/roles.ts) only see this narrow view, so the request state's shape can
// change without touching them.

import type { RequestLookup, RequestParties } from './auth/roles.ts';
import type { GatewayEngine } from './engine-port.ts';

export function requestLookupFromSnapshots(engine: GatewayEngine): RequestLookup {
  return (requestId) => partiesOf(engine.snapshot(`request/${requestId}`)?.data);
}

/** The parties named by a rendered `request/<id>` state; undefined when there is none. */
export function partiesOf(data: unknown): RequestParties | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { customer, subject, agent } = data as Record<string, unknown>;
  const parties: RequestParties = {};
  if (typeof customer === 'string') parties.customer = customer;
  if (typeof subject === 'string') parties.subject = subject;
  if (typeof agent === 'string') parties.agent = agent;
  return parties;
}
