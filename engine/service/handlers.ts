// One handler per service event type, and the timers. Each stages its changes in a
// ServiceChange and returns its effects, or throws ServiceRejection (then nothing is written).

import type { InputEvent } from '../types.ts';
import { ServiceChange, type Handler } from './change.ts';
import { done, reject } from './outcome.ts';
import { copyAgent, saveAgent, saveRequest, stats } from './indexes.ts';
import { botAfterCustomerMessage, botAfterRequested, botBeforeRouting, botFirstMatch, botRecheck, recordHandleTime } from './bot/mod.ts';
import { storeMessage, type StoredMessage } from './message-log.ts';
import { endRequest, isEnded, moveToPast } from './ending.ts';
import { countEnded, countRequested, countResponse } from './stats/mod.ts';
import { assign, goOffline, pickForAgent, routeRequest, without, withdrawOffer } from './routing.ts';
import {
  CHANNELS,
  keys,
  rankKey,
  timerIds,
  topics,
  VIP_POINTS,
  type Agent,
  type Channel,
  type CustomerRecord,
  type ServiceRequest,
  type TimerData,
} from './types.ts';

function mustAgent(c: ServiceChange, id: string): Agent {
  return c.agent(id) ?? reject('not_found', `no agent '${id}'`);
}

function mustRequest(c: ServiceChange, id: string): ServiceRequest {
  return c.request(id) ?? reject('not_found', `no request '${id}'`);
}

const online: Handler = (c, ev) => {
  const id = ev.agent as string;
  const skills = Object.entries(ev.skills as Record<string, number>);
  const capacity = ev.capacity as Partial<Record<Channel, number>>;
  const before = c.agent(id);
  const wasOnline = before?.online === true;
  const after: Agent = {
    id,
    online: true,
    status: wasOnline ? before.status : 'available',
    topics: skills.map(([topic]) => topic),
    levels: skills.map(([, level]) => level),
    languages: [...new Set((ev.languages as string[] | undefined) ?? [])],
    capacity: CHANNELS.map((ch) => capacity[ch] ?? 0),
    load: wasOnline ? before.load.slice() : CHANNELS.map(() => 0),
    idleSince: wasOnline ? before.idleSince : c.now,
    offers: wasOnline ? before.offers.slice() : [],
    assigned: wasOnline ? before.assigned.slice() : [],
  };
  if (wasOnline && before.graceUntil !== undefined) c.cancelTimer(timerIds.grace(id));
  saveAgent(c, before, after);
  pickForAgent(c, id);
  return done(c, { agent: id });
};

const status: Handler = (c, ev) => {
  const a = mustAgent(c, ev.agent as string);
  saveAgent(c, a, { ...copyAgent(a), status: ev.status as Agent['status'] });
  pickForAgent(c, a.id);
  return done(c, { agent: a.id, status: ev.status });
};

const offline: Handler = (c, ev) => {
  const a = mustAgent(c, ev.agent as string);
  if (a.online) goOffline(c, a);
  return done(c, { agent: a.id });
};

/** The gateway's presence: the agent's last desk connection closed; offline after the grace. */
const disconnected: Handler = (c, ev) => {
  const a = mustAgent(c, ev.agent as string);
  if (!a.online) return done(c, { agent: a.id });
  const graceUntil = c.now + c.options.graceMs;
  saveAgent(c, a, { ...copyAgent(a), graceUntil });
  c.setTimer(timerIds.grace(a.id), graceUntil, { kind: 'grace', agent: a.id });
  return done(c, { agent: a.id, graceUntil });
};

const connected: Handler = (c, ev) => {
  const a = mustAgent(c, ev.agent as string);
  if (a.graceUntil !== undefined) {
    saveAgent(c, a, without(copyAgent(a), 'graceUntil'));
    c.cancelTimer(timerIds.grace(a.id));
  }
  return done(c, { agent: a.id });
};

const requested: Handler = (c, ev) => {
  const id = ev.request as string;
  if (c.request(id)) reject('conflict', `request '${id}' already exists`);
  const customer = c.options.resolveCustomer(c, ev.subject as string) ?? `request:${id}`;
  const record = c.customer(customer);
  const profile = c.options.customerProfile?.(c, customer);
  const vip = profile?.tier === 'vip';
  const priority = (ev.priority ?? 0) as number;
  const language = (ev.language as string | null | undefined) ?? profile?.language;
  const topic = ev.topic as string;
  let joined: ServiceRequest | undefined;
  for (const openId of record?.open ?? []) {
    const o = c.request(openId);
    if (o && o.topic === topic) {
      joined = o;
      break;
    }
  }
  const preferredAgent = joined?.agent ?? joined?.preferredAgent;
  const text = ev.text as string | undefined;
  const r: ServiceRequest = {
    id,
    customer,
    subject: ev.subject as string,
    channel: ev.channel as Channel,
    topic,
    ...(language ? { language } : {}),
    priority,
    vip,
    status: 'queued',
    enqueuedAt: c.now,
    rank: rankKey(c.now, (vip ? VIP_POINTS : 0) + priority, c.options.agingMs),
    ...(joined ? { conversation: joined.conversation ?? joined.id } : {}),
    ...(preferredAgent ? { preferredAgent } : {}),
  };
  // Answered by the bot first: waits on the customer, in no lane and with no SLA timer.
  const first = botFirstMatch(c, r, text);
  if (first?.confident) r.status = 'bot';
  saveRequest(c, undefined, r);
  c.put(keys.customer(customer), {
    open: [...(record?.open ?? []), id],
    past: record?.past ?? [],
  } satisfies CustomerRecord);
  botBeforeRouting(c, c.request(id)!, text, first);
  if (r.status === 'queued') {
    c.setTimer(timerIds.sla(id), c.now + c.options.slaMs, { kind: 'sla', request: id });
    routeRequest(c, id);
  }
  botAfterRequested(c, c.request(id)!, text);
  const final = c.request(id)!;
  countRequested(c, final);
  return done(c, { request: id, status: final.status, ...(final.conversation ? { conversation: final.conversation } : {}), ...c.statusNotes.get(id) });
};

/** The live offer of `agent` for this request, or a rejection saying why there is none. */
function liveOffer(c: ServiceChange, ev: InputEvent): { r: ServiceRequest; a: Agent } {
  const r = mustRequest(c, ev.request as string);
  const agent = ev.agent as string;
  if (r.status === 'assigned' || isEnded(r)) {
    const whose = r.agent === agent ? 'you' : 'another agent';
    reject('conflict', `request '${r.id}' is already ${r.status === 'assigned' ? `assigned to ${whose}` : r.status}`);
  }
  if (r.offer?.agent !== agent) reject('no_offer', `request '${r.id}' has no offer for agent '${agent}' (declined, timed out or revoked)`);
  if (r.offer!.expiresAt <= c.now) reject('no_offer', `the offer of request '${r.id}' expired`);
  return { r, a: mustAgent(c, agent) };
}

const accepted: Handler = (c, ev) => {
  const { r, a } = liveOffer(c, ev);
  assign(c, r, a);
  // On a call or at a counter the person answering is the first response; no message is written.
  if (r.channel === 'voice' || r.channel === 'store') countResponse(c, c.request(r.id)!, 'agent');
  return done(c, { request: r.id, agent: a.id, status: 'assigned' });
};

const declined: Handler = (c, ev) => {
  const { r } = liveOffer(c, ev);
  withdrawOffer(c, r, 'declined');
  return done(c, { request: r.id, status: c.request(r.id)!.status });
};

const completed: Handler = (c, ev) => {
  const r = mustRequest(c, ev.request as string);
  if (isEnded(r)) reject('conflict', `request '${r.id}' is already ${r.status}`);
  const agent = endRequest(c, r);
  // Its handle time feeds the topic's mean, behind the predicted wait.
  recordHandleTime(c, c.request(r.id)!);
  countEnded(c, c.request(r.id)!, 'agent');
  moveToPast(c, r);
  if (agent) pickForAgent(c, agent);
  return done(c, { request: r.id, status: 'completed' });
};

const message: Handler = (c, ev) => {
  const r = mustRequest(c, ev.request as string);
  if (isEnded(r)) reject('conflict', `request '${r.id}' is ${r.status}`);
  const at = (ev.ts as number | undefined) ?? c.now;
  storeMessage(c, r.id, { from: ev.from as StoredMessage['from'], text: ev.text as string, at });
  c.message(topics.request(r.id), { type: 'message', request: r.id, from: ev.from, text: ev.text, at });
  if (ev.from === 'agent') countResponse(c, r, 'agent');
  else botAfterCustomerMessage(c, c.request(r.id)!, ev.text as string);
  return done(c, { request: r.id });
};

export const HANDLERS: Record<string, Handler> = {
  'agent.online': online,
  'agent.status': status,
  'agent.offline': offline,
  'agent.connected': connected,
  'agent.disconnected': disconnected,
  'service.requested': requested,
  'service.accepted': accepted,
  'service.declined': declined,
  'service.completed': completed,
  'service.message': message,
};

export function onTimer(c: ServiceChange, data: TimerData, at: number): void {
  if (data.kind === 'bot') botRecheck(c, data.request);
  else if (data.kind === 'offer') {
    const r = c.request(data.request);
    // Answered, revoked or re-offered since: this timer is stale.
    if (r?.status === 'offered' && r.offer?.agent === data.agent && r.offer.expiresAt === at) withdrawOffer(c, r, 'timeout');
  } else if (data.kind === 'sla') {
    const r = c.request(data.request);
    if (!r || r.breached || (r.status !== 'queued' && r.status !== 'offered')) return;
    // Wider eligibility: the language is no longer required, and the agent that last let it go
    // may have it again — else a request whose only eligible agent declined would wait forever.
    saveRequest(c, r, { ...without(r, 'lastAgent'), breached: true });
    stats(c, r.topic).slaBreaches++;
    c.message(topics.alerts, {
      type: 'sla',
      request: r.id,
      topic: r.topic,
      channel: r.channel,
      waitedMs: c.now - r.enqueuedAt,
      ...(r.language ? { language: r.language } : {}),
    });
    routeRequest(c, r.id);
  } else {
    const a = c.agent(data.agent);
    if (a?.online && a.graceUntil === at) goOffline(c, a);
  }
}
