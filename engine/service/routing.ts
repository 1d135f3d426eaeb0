// The router. Two directions, both answered from the lanes without scanning:
//   routeRequest — a request became queued: the first agent of its agent lane (highest level,
//     then longest idle, then agent id) that is not the agent it was last offered to;
//   pickForAgent — an agent gained room: the best head (queue order) among the request lanes
//     it serves (its topics × channels with room × its languages and `*`), after any request
//     waiting for it as its conversation's agent (keys.preferring).
// Every change that can make a queued request and an agent match calls one of them, so at rest
// no queued request has an eligible agent other than the one it was last offered to.

import type { ServiceChange } from './change.ts';
import { customerContext } from './context.ts';
import { copyAgent, free, requestLane, requiredLanguage, saveAgent, saveRequest } from './indexes.ts';
import { noteDeparture } from './lane-drain.ts';
import { find } from './ranked-list.ts';
import { ANY_LANGUAGE, CHANNELS, channelIndex, keys, rankKey, REQUEUE_POINTS, timerIds, topics, type Agent, type ServiceRequest } from './types.ts';

/** The routing rule itself; the lanes are an index of it, and tests hold them to it. */
export function eligible(a: Agent, r: ServiceRequest): boolean {
  if (!a.online || a.status !== 'available') return false;
  if (!a.topics.includes(r.topic)) return false;
  const language = requiredLanguage(r);
  if (language !== undefined && !a.languages.includes(language)) return false;
  return free(a, channelIndex(r.channel)) > 0;
}

export function without<T extends object, K extends keyof T>(value: T, ...fields: K[]): Omit<T, K> {
  const copy = { ...value };
  for (const f of fields) delete copy[f];
  return copy;
}

export function routeRequest(c: ServiceChange, id: string): void {
  const r = c.request(id);
  if (!r || r.status !== 'queued') return;
  // Continuity: the agent of the conversation it joined, when that agent can take it now.
  const preferred = r.preferredAgent && r.preferredAgent !== r.lastAgent ? c.agent(r.preferredAgent) : undefined;
  if (preferred && eligible(preferred, r)) return offer(c, r, preferred);
  const lane = keys.agentLane(r.channel, requiredLanguage(r) ?? ANY_LANGUAGE, r.topic);
  const found = find(c, lane, (agentId) => agentId !== r.lastAgent);
  if (found) offer(c, r, c.agent(found.id)!);
}

export function pickForAgent(c: ServiceChange, agentId: string): void {
  for (;;) {
    const a = c.agent(agentId);
    if (!a || !a.online || a.status !== 'available') return;
    // Continuity: a request waiting for this agent (its conversation's) comes before the queue.
    const waiting = find(c, keys.preferring(agentId), (requestId) => {
      const r = c.request(requestId)!;
      return r.lastAgent !== agentId && eligible(a, r);
    });
    if (waiting) {
      offer(c, c.request(waiting.id)!, a);
      continue;
    }
    let best: { id: string; key: number } | undefined;
    const notDeclinedHere = (requestId: string) => c.request(requestId)!.lastAgent !== agentId;
    for (const topic of a.topics) {
      for (let ch = 0; ch < CHANNELS.length; ch++) {
        if (free(a, ch) <= 0) continue;
        for (const language of [...a.languages, ANY_LANGUAGE]) {
          const head = find(c, keys.requestLane(CHANNELS[ch], language, topic), notDeclinedHere);
          if (head && (!best || head.key < best.key || (head.key === best.key && head.id < best.id))) best = head;
        }
      }
    }
    if (!best) return;
    // Each offer takes one unit of room, so the loop ends.
    offer(c, c.request(best.id)!, a);
  }
}

/** Offers a queued request to an eligible agent, holding a unit of its channel until answered. */
function offer(c: ServiceChange, r: ServiceRequest, a: Agent): void {
  const expiresAt = c.now + c.options.offerTimeoutMs;
  const lane = requestLane(r);
  if (lane !== undefined) noteDeparture(c, lane, r, c.now);
  const offered: ServiceRequest = { ...r, status: 'offered', offer: { agent: a.id, expiresAt } };
  saveRequest(c, r, offered);
  const held = copyAgent(a);
  held.load[channelIndex(r.channel)]++;
  held.offers.push(r.id);
  saveAgent(c, a, held);
  c.setTimer(timerIds.offer(r.id), expiresAt, { kind: 'offer', request: r.id, agent: a.id });
  c.message(topics.agent(a.id), {
    type: 'offer',
    request: r.id,
    channel: r.channel,
    topic: r.topic,
    priority: r.priority,
    ...(r.conversation ? { conversation: r.conversation } : {}),
    customer: customerContext(c, offered),
    expiresAt,
  });
}

export type WithdrawReason = 'declined' | 'timeout' | 'completed' | 'resolved';

/**
 * Ends a request's offer: the agent's unit is freed and the request, unless completed, goes
 * back to its queue with its original rank (its waiting time counts on), never to that agent
 * next. Then both look for new work.
 */
export function withdrawOffer(c: ServiceChange, r: ServiceRequest, reason: WithdrawReason): ServiceRequest {
  const agentId = r.offer!.agent;
  const a = c.agent(agentId)!;
  const freed = copyAgent(a);
  freed.load[channelIndex(r.channel)]--;
  freed.offers = freed.offers.filter((id) => id !== r.id);
  saveAgent(c, a, freed);
  c.cancelTimer(timerIds.offer(r.id));
  if (reason !== 'declined') c.message(topics.agent(agentId), { type: 'revoked', request: r.id, reason });
  if (reason === 'completed' || reason === 'resolved') return r;
  const queued: ServiceRequest = { ...without(r, 'offer'), status: 'queued', lastAgent: agentId };
  saveRequest(c, r, queued);
  routeRequest(c, r.id);
  pickForAgent(c, agentId);
  return queued;
}

export function assign(c: ServiceChange, r: ServiceRequest, a: Agent): void {
  saveRequest(c, r, { ...without(r, 'offer'), status: 'assigned', agent: a.id, assignedAt: c.now });
  const took = copyAgent(a);
  took.offers = took.offers.filter((id) => id !== r.id);
  took.assigned.push(r.id);
  saveAgent(c, a, took);
  c.cancelTimer(timerIds.offer(r.id));
  c.cancelTimer(timerIds.sla(r.id));
  c.message(topics.agent(a.id), { type: 'assigned', request: r.id, channel: r.channel, topic: r.topic, customer: r.customer });
}

/** Frees an assignment's unit; the agent's idle clock starts now. */
export function release(c: ServiceChange, r: ServiceRequest): void {
  const a = c.agent(r.agent!)!;
  const done = copyAgent(a);
  done.load[channelIndex(r.channel)]--;
  done.assigned = done.assigned.filter((id) => id !== r.id);
  done.idleSince = c.now;
  saveAgent(c, a, done);
}

/**
 * An agent goes offline: it leaves every lane first (so nothing is routed back to it), its
 * offers go to the next agent with their rank, and its open requests are re-queued ahead of
 * every newer request (REQUEUE_POINTS) with a fresh SLA.
 */
export function goOffline(c: ServiceChange, a: Agent): void {
  const gone: Agent = { ...without(a, 'graceUntil'), online: false, load: a.load.map(() => 0), offers: [], assigned: [] };
  saveAgent(c, a, gone);
  c.cancelTimer(timerIds.grace(a.id));
  const moved: string[] = [];
  for (const id of a.offers) {
    const r = c.request(id)!;
    c.cancelTimer(timerIds.offer(id));
    c.message(topics.agent(a.id), { type: 'revoked', request: id, reason: 'offline' });
    // Not a refusal: once back online the agent may be offered it again.
    saveRequest(c, r, { ...without(r, 'offer'), status: 'queued' });
    moved.push(id);
  }
  for (const id of a.assigned) {
    const r = c.request(id)!;
    c.message(topics.agent(a.id), { type: 'revoked', request: id, reason: 'offline' });
    const rank = Math.min(r.rank, rankKey(r.enqueuedAt, REQUEUE_POINTS, c.options.agingMs));
    saveRequest(c, r, { ...without(r, 'agent', 'assignedAt'), status: 'queued', rank });
    c.setTimer(timerIds.sla(id), c.now + c.options.slaMs, { kind: 'sla', request: id });
    moved.push(id);
  }
  for (const id of moved) routeRequest(c, id);
}
