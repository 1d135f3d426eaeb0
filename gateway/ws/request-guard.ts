// An agent reads `request/<id>` only while the request is assigned to it (contract §2); the
// assignment changes inside the engine, after the agent subscribed. Every change of a request's
// status is published on its topic as a `status` message saying who has it now, so the hub can
// re-judge an agent's subscription from the message alone, without reading state: the status
// message that takes the request away (re-queued, offered or assigned to another agent,
// completed) is the last one the agent gets, followed by a `forbidden` error naming the topic.
// Customers own their requests for good and the other roles read every request, so only agents
// are re-checked.

import { mayRead, type RequestParties } from '../auth/roles.ts';
import type { WsConnection } from './connection.ts';
import { errorMessage } from './out-message.ts';
import type { SubscriptionGuard } from './topic-hub.ts';

const PREFIX = 'request/';

interface StatusMessage {
  type: 'status';
  status: string;
  agent?: unknown;
}

function isStatus(data: unknown): data is StatusMessage {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'status';
}

/** Who may read the request once this status message has been applied, as far as agents go. */
function partiesAfter(status: StatusMessage): RequestParties {
  return status.status === 'assigned' && typeof status.agent === 'string' ? { agent: status.agent } : {};
}

export const requestGuard: SubscriptionGuard<WsConnection> = {
  covers: (topic) => topic.startsWith(PREFIX),

  mayKeep(conn, topic, data) {
    if (conn.principal.role !== 'agent' || !isStatus(data)) return true;
    const parties = partiesAfter(data);
    // The same rule as at `sub` time (auth/roles.ts), fed with the parties the message names.
    return mayRead(conn.principal, topic, { publicStock: false, lookupRequest: () => parties, transport: 'ws' });
  },

  ended(conn, topic) {
    conn.topics.delete(topic);
    conn.push(errorMessage('forbidden', `${topic} is no longer assigned to you`, topic, { topic }));
  },
};
