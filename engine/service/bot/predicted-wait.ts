// The predicted wait for a person, for a request waiting in its lane:
//   (requests ahead of it in its lane + 1) × mean handle time of its topic
//   ÷ the capacity on its channel (free or busy) of the online, available agents eligible for it,
// 0 when one of those agents has room now, and null when there are none (nobody could take it).
// The mean handle time (accepted → completed) of a topic is an exponentially weighted mean
// (weight HANDLE_ALPHA for each new completion), seeded by the first completion; before any,
// DEFAULT_HANDLE_MS.

import type { ServiceChange } from '../change.ts';
import { free, requestLane, requiredLanguage } from '../indexes.ts';
import { entries, rankOf } from '../ranked-list.ts';
import { channelIndex, keys, type ServiceRequest } from '../types.ts';

export const DEFAULT_HANDLE_MS = 180_000;
export const HANDLE_ALPHA = 0.2;

const handleKey = (topic: string) => `svc/handle/${topic}`;

export function meanHandleMs(c: ServiceChange, topic: string): number {
  return c.get<number>(handleKey(topic)) ?? DEFAULT_HANDLE_MS;
}

/** A completed request's handle time joins its topic's mean. */
export function recordHandleTime(c: ServiceChange, r: ServiceRequest): void {
  if (r.assignedAt === undefined || r.completedAt === undefined) return;
  const sample = Math.max(0, r.completedAt - r.assignedAt);
  const before = c.get<number>(handleKey(r.topic));
  c.put(handleKey(r.topic), Math.round(before === undefined ? sample : before + HANDLE_ALPHA * (sample - before)));
}

/**
 * The predicted wait of a queued request (undefined when it is not queued). Reads every online
 * agent: the lanes hold only agents with room, and the busy ones' capacity counts too.
 */
export function predictedWaitMs(c: ServiceChange, r: ServiceRequest): number | null | undefined {
  const lane = requestLane(r);
  if (lane === undefined) return undefined;
  const ch = channelIndex(r.channel);
  const language = requiredLanguage(r);
  let capacity = 0;
  for (const { id } of entries(c, keys.onlineAgents)) {
    const a = c.agent(id);
    if (!a || !a.online || a.status !== 'available' || !a.topics.includes(r.topic)) continue;
    if (language !== undefined && !a.languages.includes(language)) continue;
    if (free(a, ch) > 0 && a.id !== r.lastAgent) return 0;
    capacity += a.capacity[ch];
  }
  if (capacity === 0) return null;
  const ahead = rankOf(c, lane, r.id, r.rank) ?? 0;
  return Math.round(((ahead + 1) * meanHandleMs(c, r.topic)) / capacity);
}
