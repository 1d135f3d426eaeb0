// The predicted wait for a person, for a request waiting in its lane:
//   (requests ahead of it in its lane + 1) × mean handle time of its topic
//   ÷ the capacity on its channel (free or busy) of the online, available agents eligible for it,
// 0 when one of those agents has room now, and null when there are none (nobody could take it).
// Once the lane has drained under a backlog DRAIN_MIN_GAPS times, (requests ahead + 1) × its mean
// gap between departures instead (lane-drain.ts).
// The mean handle time (accepted → completed) of a topic is an exponentially weighted mean
// (weight HANDLE_ALPHA for each new completion), seeded by the first completion; before any,
// DEFAULT_HANDLE_MS.

import type { ServiceChange } from '../change.ts';
import { free, requestLane, requiredLanguage } from '../indexes.ts';
import { drainGapMs } from '../lane-drain.ts';
import { entries, find, rankOf } from '../ranked-list.ts';
import { ANY_LANGUAGE, channelIndex, keys, type ServiceRequest, type TopicStats } from '../types.ts';

export const DEFAULT_HANDLE_MS = 180_000;
export const HANDLE_ALPHA = 0.2;

const handleKey = (topic: string) => `svc/handle/${topic}`;

function meanHandleMs(c: ServiceChange, topic: string): number {
  return c.get<number>(handleKey(topic)) ?? DEFAULT_HANDLE_MS;
}

/** A completed request's handle time joins its topic's mean. */
export function recordHandleTime(c: ServiceChange, r: ServiceRequest): void {
  if (r.assignedAt === undefined || r.completedAt === undefined) return;
  const sample = Math.max(0, r.completedAt - r.assignedAt);
  const before = c.get<number>(handleKey(r.topic));
  c.put(handleKey(r.topic), Math.round(before === undefined ? sample : before + HANDLE_ALPHA * (sample - before)));
}

/** The predicted wait of a queued request (undefined when it is not queued). */
export function predictedWaitMs(c: ServiceChange, r: ServiceRequest): number | null | undefined {
  const lane = requestLane(r);
  if (lane === undefined) return undefined;
  const s = c.get<TopicStats>(keys.stats(r.topic));
  const language = requiredLanguage(r) ?? ANY_LANGUAGE;
  let capacity: number;
  if (s?.capacities === undefined) {
    const counted = countAgents(c, r);
    if (counted === 'free') return 0;
    capacity = counted;
  } else {
    // The agent lane holds exactly the eligible agents with a free unit of the channel.
    if (find(c, keys.agentLane(r.channel, language, r.topic), (id) => id !== r.lastAgent)) return 0;
    const i = s.capacityLanguages!.indexOf(language);
    capacity = i < 0 ? 0 : s.capacities[i][channelIndex(r.channel)];
  }
  if (capacity <= 0) return null;
  const ahead = rankOf(c, lane, r.id, r.rank) ?? 0;
  // Once the lane has drained under a backlog a few times, its pace says more than capacity ÷
  // handle time: its agents also serve other topics and channels (lane-drain.ts).
  const gap = drainGapMs(c, lane);
  if (gap !== undefined) return Math.round((ahead + 1) * gap);
  return Math.round(((ahead + 1) * meanHandleMs(c, r.topic)) / capacity);
}

/** Without the topic's capacity totals (a record kept from before them): every online agent read. */
function countAgents(c: ServiceChange, r: ServiceRequest): number | 'free' {
  const ch = channelIndex(r.channel);
  const language = requiredLanguage(r);
  let capacity = 0;
  for (const { id } of entries(c, keys.onlineAgents)) {
    const a = c.agent(id);
    if (!a || !a.online || a.status !== 'available' || !a.topics.includes(r.topic)) continue;
    if (language !== undefined && !a.languages.includes(language)) continue;
    if (free(a, ch) > 0 && a.id !== r.lastAgent) return 'free';
    capacity += a.capacity[ch];
  }
  return capacity;
}
