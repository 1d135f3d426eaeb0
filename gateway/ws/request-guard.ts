// An agent reads `request/<id>` only while the request is assigned to it (docs/protocol.md, section 2);
// the assignment changes inside the engine, after the agent subscribed. Every change of a
// request's status is published on its topic as a `status` message saying who has it now, so the
// hub can re-judge an agent's subscription from the message alone, without reading state: the
// status message that takes the request away (completed, re-queued, offered or assigned to another
// agent) is the last one the agent gets, followed by `{"op":"ended","topic","reason"}`. That is the
// normal end of a conversation, not a refusal, so it is not an `error`.
// Customers own their requests for good and the other roles read every request, so only agents
// are re-checked.

import { mayRead, type RequestParties } from '../auth/roles.ts';
import type { WsConnection } from './connection.ts';
import { OutMessage } from './out-message.ts';
import type { SubscriptionGuard } from './topic-hub.ts';

const PREFIX = 'request/';

/** Why a subscription ended: the request was completed, or it is no longer this agent's. */
export type EndReason = 'completed' | 'unassigned';

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

export function endedMessage(topic: string, reason: EndReason): OutMessage {
  return new OutMessage({ op: 'ended', topic, reason });
}

export const requestGuard: SubscriptionGuard<WsConnection> = {
  covers: (topic) => topic.startsWith(PREFIX),

  mayKeep(conn, topic, data) {
    if (conn.principal.role !== 'agent' || !isStatus(data)) return true;
    const parties = partiesAfter(data);
    // The same rule as at `sub` time (auth/roles.ts), fed with the parties the message names.
    return mayRead(conn.principal, topic, { publicStock: false, lookupRequest: () => parties, transport: 'ws' });
  },

  // `data` is the status message mayKeep refused.
  ended(conn, topic, data) {
    const reason: EndReason = isStatus(data) && data.status === 'completed' ? 'completed' : 'unassigned';
    conn.topics.delete(topic);
    conn.push(endedMessage(topic, reason));
  },
};
