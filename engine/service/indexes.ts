// Every agent and request record is saved through here, so the lanes (ranked lists) and the
// per-topic counters follow from the record alone: what an old record put in a lane is taken
// out by diffing it with the new one. No path can leave an index out of step with its record.
//
// Agent lane (channel, language, topic): the agents that can take a request there now —
// online, available, skilled in the topic, speaking the language (or `*`: every agent), with
// free capacity on the channel — ordered by level, then idle time. Request lane (channel,
// language, topic): the queued requests needing exactly that (`*`: no language required),
// in queue order, aux = enqueue time.

import type { ServiceChange } from './change.ts';
import { CHUNK_MAX, insert, remove } from './ranked-list.ts';
import { agentKey, ANY_LANGUAGE, CHANNELS, keys, topics, type Agent, type ServiceRequest, type TopicStats } from './types.ts';

/**
 * An agent moves in every lane it is in whenever its idle clock restarts (each completion), up
 * to topics × channels × (languages + 1) lanes: smaller chunks keep that rewrite small.
 */
const AGENT_CHUNK_MAX = CHUNK_MAX / 4;

export function copyAgent(a: Agent): Agent {
  return { ...a, load: a.load.slice(), offers: a.offers.slice(), assigned: a.assigned.slice() };
}

export const free = (a: Agent, channel: number) => a.capacity[channel] - a.load[channel];

const canWork = (a: Agent | undefined): a is Agent => a !== undefined && a.online && a.status === 'available';

function hasFreeCapacity(a: Agent): boolean {
  for (let ch = 0; ch < CHANNELS.length; ch++) if (free(a, ch) > 0) return true;
  return false;
}

/** The agent lanes an agent record belongs to, with its key in each. */
function agentLanes(a: Agent | undefined): Map<string, number> {
  const lanes = new Map<string, number>();
  if (!canWork(a)) return lanes;
  for (let t = 0; t < a.topics.length; t++) {
    const key = agentKey(a.levels[t], a.idleSince);
    for (let ch = 0; ch < CHANNELS.length; ch++) {
      if (free(a, ch) <= 0) continue;
      for (const language of a.languages) lanes.set(keys.agentLane(CHANNELS[ch], language, a.topics[t]), key);
      lanes.set(keys.agentLane(CHANNELS[ch], ANY_LANGUAGE, a.topics[t]), key);
    }
  }
  return lanes;
}

export function saveAgent(c: ServiceChange, before: Agent | undefined, after: Agent): void {
  const was = agentLanes(before);
  const now = agentLanes(after);
  for (const [lane, key] of was) if (now.get(lane) !== key) remove(c, lane, after.id, key);
  for (const [lane, key] of now) if (was.get(lane) !== key) insert(c, lane, after.id, key, 0, AGENT_CHUNK_MAX);
  if (before?.online === true && !after.online) remove(c, keys.onlineAgents, after.id, 0);
  if (before?.online !== true && after.online) insert(c, keys.onlineAgents, after.id, 0, 0);
  if (!sameCapacityShare(before, after)) {
    addCapacity(c, before, -1);
    addCapacity(c, after, 1);
  }
  const deltas = new Map<string, [available: number, eligible: number]>();
  countAgent(deltas, before, -1);
  countAgent(deltas, after, 1);
  for (const [topic, [available, eligible]] of deltas) {
    if (available === 0 && eligible === 0) continue;
    const s = stats(c, topic);
    s.agentsAvailable += available;
    s.agentsEligible += eligible;
  }
  c.put(keys.agent(after.id), after);
}

function countAgent(deltas: Map<string, [number, number]>, a: Agent | undefined, sign: 1 | -1): void {
  if (!canWork(a)) return;
  const eligible = hasFreeCapacity(a) ? sign : 0;
  for (const topic of a.topics) {
    const d = deltas.get(topic) ?? [0, 0];
    d[0] += sign;
    d[1] += eligible;
    deltas.set(topic, d);
  }
}

/** Whether two records of an agent add the same to their topics' capacity totals. */
function sameCapacityShare(before: Agent | undefined, after: Agent): boolean {
  const was = canWork(before);
  if (was !== canWork(after)) return false;
  if (!was) return true;
  return before!.topics.join() === after.topics.join() && before!.languages.join() === after.languages.join() && before!.capacity.join() === after.capacity.join();
}

/** Adds (or takes away) an agent's capacity in each of its topics' totals, per language it speaks and `*`. */
function addCapacity(c: ServiceChange, a: Agent | undefined, sign: 1 | -1): void {
  if (!canWork(a)) return;
  for (const topic of a.topics) {
    const s = stats(c, topic);
    // A record from before the totals were kept starts them only while it counts no agent.
    if (s.capacities === undefined && s.agentsAvailable !== 0) continue;
    const languages = (s.capacityLanguages ?? []).slice();
    const capacities = (s.capacities ?? []).map((row) => row.slice());
    for (const language of [...a.languages, ANY_LANGUAGE]) {
      let i = languages.indexOf(language);
      if (i < 0) i = languages.push(language) - 1;
      capacities[i] ??= CHANNELS.map(() => 0);
      a.capacity.forEach((n, ch) => (capacities[i][ch] += sign * n));
    }
    s.capacityLanguages = languages;
    s.capacities = capacities;
  }
}

/** The request lane a request is queued in, when it is queued. */
export function requestLane(r: ServiceRequest): string | undefined {
  if (r.status !== 'queued') return undefined;
  return keys.requestLane(r.channel, requiredLanguage(r) ?? ANY_LANGUAGE, r.topic);
}

/** The language an agent must speak for the request: none once its SLA is breached. */
export const requiredLanguage = (r: ServiceRequest): string | undefined => (r.breached ? undefined : r.language);

export function saveRequest(c: ServiceChange, before: ServiceRequest | undefined, after: ServiceRequest): void {
  const was = before && requestLane(before);
  const now = requestLane(after);
  const moved = was !== now || (before !== undefined && before.rank !== after.rank);
  if (was && moved) {
    remove(c, was, after.id, before!.rank);
    c.lanesMoved.add(was);
  }
  savePreference(c, before, after);
  if (now && moved) {
    c.lanesMoved.add(now);
    insert(c, now, after.id, after.rank, after.enqueuedAt);
    const s = stats(c, after.topic);
    if (!s.lanes.includes(now)) s.lanes = [...s.lanes, now];
  }
  if (before?.status !== after.status || moved) {
    const s = stats(c, after.topic);
    if (before?.status === 'queued') s.waiting--;
    if (before?.status === 'offered') s.offered--;
    if (after.status === 'queued') s.waiting++;
    if (after.status === 'offered') s.offered++;
  }
  c.put(keys.request(after.id), after);
  c.touched.add(after.id);
}

/** The agent a queued request waits for (continuity), whose list it is in. */
const waitsFor = (r: ServiceRequest | undefined) => (r?.status === 'queued' ? r.preferredAgent : undefined);

/**
 * Keeps `preferring/<agent>` exact: a request is in it exactly while queued with that preferred
 * agent, so every way out of the queue (offer, completion, presence) takes it out here too.
 */
function savePreference(c: ServiceChange, before: ServiceRequest | undefined, after: ServiceRequest): void {
  const was = waitsFor(before);
  const now = waitsFor(after);
  if (was === now && (was === undefined || before!.rank === after.rank)) return;
  if (was !== undefined) remove(c, keys.preferring(was), after.id, before!.rank);
  if (now !== undefined) insert(c, keys.preferring(now), after.id, after.rank, after.enqueuedAt);
}

/** This change's copy of a topic's counters, created (and listed) for a topic never seen. */
export function stats(c: ServiceChange, topic: string): TopicStats {
  const key = keys.stats(topic);
  let s = c.edit<TopicStats>(key, (v) => ({ ...v }));
  if (!s) {
    s = { waiting: 0, offered: 0, agentsAvailable: 0, agentsEligible: 0, slaBreaches: 0, lanes: [], updatedAt: c.now, capacityLanguages: [], capacities: [] };
    c.put(key, s);
    const list = c.get<string[]>(keys.topicList) ?? [];
    c.put(keys.topicList, [...list, topic]);
  }
  s.updatedAt = c.now;
  c.topicChanged(topics.queue(topic));
  return s;
}
