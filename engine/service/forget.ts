// Erasure of a customer (the customer domain's `customer.erased`): its service requests go, open
// and past, and its cases (cases/). An open one is ended first as a completion would end it (offer withdrawn, agent's
// capacity freed, out of the queue), so the agents and queues stay right; then every request
// record, its stored messages and the customer's request list are deleted. The topics that
// carried them (`request/<id>`, and `agent/<agent>` of the desks offered one, whose offers showed
// the customer) restart their histories, so nothing from before is replayed.

import type { Effects, InputEvent } from '../types.ts';
import { forgetCases } from './cases/mod.ts';
import type { ServiceChange } from './change.ts';
import { endRequest, isEnded } from './ending.ts';
import { done } from './outcome.ts';
import { forgetMessages } from './message-log.ts';
import { forgetOlder } from './past-requests.ts';
import { pickForAgent } from './routing.ts';
import { keys, topics, type ServiceRequest } from './types.ts';

/** `service.forget`: `{erasure, names}`, every name the erased customer had. */
export function forgetCustomer(c: ServiceChange, ev: InputEvent): Effects {
  const gone: string[] = [];
  const freed = new Set<string>();
  // Agents whose desks were offered or given one of them: their topics showed the customer.
  const desks = new Set<string>();
  const deskOf = (r: ServiceRequest | undefined) => {
    for (const agent of [r?.agent, r?.offer?.agent, r?.lastAgent, r?.preferredAgent]) if (agent !== undefined) desks.add(agent);
  };
  for (const name of ev.names as string[]) {
    const record = c.customer(name);
    if (record === undefined) continue;
    const older = forgetOlder(c, name);
    for (const id of [...record.past, ...older]) deskOf(c.request(id));
    for (const id of record.open) {
      const r = c.request(id);
      deskOf(r);
      if (r === undefined || isEnded(r)) continue;
      const agent = endRequest(c, r);
      if (agent !== undefined) freed.add(agent);
    }
    gone.push(...record.open, ...record.past, ...older);
    c.put(keys.customer(name), undefined);
  }
  const ids = [...new Set(gone)];
  let messages = 0;
  for (const id of ids) {
    c.put(keys.request(id), undefined);
    messages += forgetMessages(c, id);
    // Who follows the conversation learns it ended, with nothing of it repeated.
    c.message(topics.request(id), { type: 'status', request: id, status: 'erased' });
  }
  // Agents freed take their next requests once the erased ones are gone from every list.
  for (const agent of freed) pickForAgent(c, agent);
  for (const id of ids) c.touched.delete(id);
  const cases = forgetCases(c, ev.names as string[]);
  const effects = done(c);
  const reply = { id: `${ev.id}/done`, type: 'customer.forgotten', erasure: ev.erasure, part: true, add: 0, counts: { requests: ids.length, messages, cases: cases.count } };
  // The conversations' earlier messages, and the offers that showed the customer, are never replayed.
  return { ...effects, emit: [reply], restart: [...ids.map(topics.request), ...[...desks].map(topics.agent), ...cases.shown] };
}
