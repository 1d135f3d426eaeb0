// What an agent's desk is shown of the customer on `agent/<agent>`: the offer's 360 context and
// the assignment's customer with phone numbers and e-mail addresses masked (maskId), enough to
// recognise what a caller reads out, not to call or write to it. The engine writes one message
// per offer for every reader of the topic, and supervisors read the same topic with the ids
// whole, so the masking is per reader and happens here, where the reader is known.

import { maskId } from '../../engine/mod.ts';
import type { Principal } from '../auth/principal.ts';
import { OutMessage } from './out-message.ts';

const AGENT_TOPIC = 'agent/';

/** Rewrites an update before it is queued for one reader; undefined when the reader sees updates as they are. */
export type ReaderView = (message: OutMessage) => OutMessage;

export function readerView(principal: Principal): ReaderView | undefined {
  return principal.role === 'agent' ? agentView : undefined;
}

/**
 * An `agent/<agent>` update with every phone and e-mail id under its `customer` masked (the
 * context's `id` and `ids`, an assignment's customer name, whatever else the customer domain
 * adds); any other message as it is. A new message, since the original is shared with every
 * other reader and the topic's history.
 */
export function agentView(message: OutMessage): OutMessage {
  if (message.seq === undefined || message.topic?.startsWith(AGENT_TOPIC) !== true) return message;
  const data = message.body.data;
  if (typeof data !== 'object' || data === null || !('customer' in data)) return message;
  const customer = (data as Record<string, unknown>).customer;
  return new OutMessage({ ...message.body, data: { ...data, customer: masked(customer) } }, message.topic, message.seq);
}

/** Every string of a JSON value passed through maskId (which leaves any other id as it is). */
function masked(value: unknown): unknown {
  if (typeof value === 'string') return maskId(value);
  if (Array.isArray(value)) return value.map(masked);
  if (typeof value !== 'object' || value === null) return value;
  // fromEntries defines own properties, so even a key named `__proto__` stays a key.
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, masked(field)]));
}
