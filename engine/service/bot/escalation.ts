// The customer's word on a request the bot answered: `service.escalated` (a person, please) and
// `service.resolved` (answered: by the bot, or by an agent). A request waiting on the bot (status
// `bot`) joins the queue when escalated, its waiting time starting then; a resolved request is
// ended like a completed one and is never offered to an agent afterwards.

import type { EventSchema } from '../../validate.ts';
import type { Handler, ServiceChange } from '../change.ts';
import { endRequest, isEnded, moveToPast } from '../ending.ts';
import { saveRequest } from '../indexes.ts';
import { done, reject } from '../outcome.ts';
import { pickForAgent, routeRequest } from '../routing.ts';
import { countEnded } from '../stats/mod.ts';
import { rankKey, timerIds, VIP_POINTS, type ServiceRequest } from '../types.ts';
import { predictedWaitMs } from './predicted-wait.ts';

export const ESCALATION_EVENT_FIELDS: Record<string, EventSchema> = {
  'service.escalated': { request: { kind: 'id', noAt: true } },
  'service.resolved': { request: { kind: 'id', noAt: true }, by: { kind: 'enum', values: ['bot', 'agent'] } },
};

function mustOpenRequest(c: ServiceChange, id: string): ServiceRequest {
  const r = c.request(id) ?? reject('not_found', `no request '${id}'`);
  if (isEnded(r)) reject('conflict', `request '${id}' is already ${r.status}`);
  return r;
}

/** A request waiting on the bot joins the queue now (its wait starts now) and is routed at once. */
export function handToPerson(c: ServiceChange, r: ServiceRequest): void {
  const points = (r.vip ? VIP_POINTS : 0) + r.priority;
  saveRequest(c, r, { ...r, status: 'queued', enqueuedAt: c.now, rank: rankKey(c.now, points, c.options.agingMs) });
  c.setTimer(timerIds.sla(r.id), c.now + c.options.slaMs, { kind: 'sla', request: r.id });
  routeRequest(c, r.id);
  notePredictedWait(c, r.id);
}

/** A request still queued is told its predicted wait with its status. */
export function notePredictedWait(c: ServiceChange, id: string): void {
  const wait = predictedWaitMs(c, c.request(id)!);
  if (wait !== undefined) c.noteStatus(id, { predictedWaitMs: wait });
}

const escalated: Handler = (c, ev) => {
  const r = mustOpenRequest(c, ev.request as string);
  // Queued, offered or with an agent already: a person has it or will; nothing changes.
  if (r.status === 'bot') handToPerson(c, r);
  return done(c, { request: r.id, status: c.request(r.id)!.status, ...c.statusNotes.get(r.id) });
};

const resolved: Handler = (c, ev) => {
  const r = mustOpenRequest(c, ev.request as string);
  const by = ev.by as 'bot' | 'agent';
  const agent = endRequest(c, r, by);
  countEnded(c, c.request(r.id)!, by);
  moveToPast(c, r);
  if (agent !== undefined) pickForAgent(c, agent);
  return done(c, { request: r.id, status: 'resolved', by });
};

export const ESCALATION_HANDLERS: Record<string, Handler> = { 'service.escalated': escalated, 'service.resolved': resolved };
