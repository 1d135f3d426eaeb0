// State topics carry the whole state in every update, so a slow client may skip to the latest
// one (conflation). Event topics carry messages that each matter and are never dropped.

// `store/<loc>` is an event topic: each notice to a store's associates matters.
const STATE_PREFIXES = ['stock/', 'queue/', 'recs/', 'order/', 'stats/', 'loyalty/', 'cases/'];

export function isStateTopic(topic: string): boolean {
  for (const prefix of STATE_PREFIXES) if (topic.startsWith(prefix)) return true;
  return false;
}

export type TopicKind = 'state' | 'event';

export function topicKind(topic: string): TopicKind {
  return isStateTopic(topic) ? 'state' : 'event';
}
