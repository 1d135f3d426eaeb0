// How a service step ends: a refusal (nothing written), or its effects once every touched
// request has been told its final status. Shared by every handler of the service partition.

import { ServiceChange, ServiceRejection } from './change.ts';
import { requestLane } from './indexes.ts';
import { positionMessages } from './positions.ts';
import { rankOf } from './ranked-list.ts';
import { topics } from './types.ts';

export const reject = (code: ServiceRejection['code'], message: string): never => {
  throw new ServiceRejection(code, message);
};

/** Tells each request touched by the event its final status (and queue position) once, then the lanes' heads their new positions. */
function statusMessages(c: ServiceChange): void {
  for (const id of c.touched) {
    const r = c.request(id)!;
    const lane = requestLane(r);
    const position = lane === undefined ? undefined : rankOf(c, lane, r.id, r.rank);
    c.message(topics.request(id), {
      type: 'status',
      request: id,
      status: r.status,
      ...(r.status === 'assigned' ? { agent: r.agent } : {}),
      ...(position !== undefined ? { position: position + 1 } : {}),
      ...(r.conversation ? { conversation: r.conversation } : {}),
      ...c.statusNotes.get(id),
    });
  }
  positionMessages(c);
}

export const done = (c: ServiceChange, result: Record<string, unknown> = {}) => {
  statusMessages(c);
  return c.effects(result);
};

