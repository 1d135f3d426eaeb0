// The service processor: agents, requests, offers, SLAs and presence, routed through lanes
// (indexes.ts). Pure: it reads through the StateView it is given and returns effects. All its
// events share one partition: routing compares every agent with every request.

import { CASE_EVENT_FIELDS, CASE_HANDLERS, caseDue, customerCases, isCaseTimer, mergeCases } from './cases/mod.ts';
import { BOT_EVENT_FIELDS, BOT_HANDLERS } from './bot/mod.ts';
import { forgetCustomer } from './forget.ts';
import { rejection } from '../errors.ts';
import { StagedState } from '../staged-state.ts';
import type { Processor, StateView } from '../types.ts';
import { ServiceChange, ServiceRejection, type ResolvedOptions } from './change.ts';
import { SERVICE_EVENT_FIELDS } from './events.ts';
import { HANDLERS, onTimer } from './handlers.ts';
import { requestLane } from './indexes.ts';
import { requestMessages } from './message-log.ts';
import { customerRequests } from './messages.ts';
import { done } from './outcome.ts';
import { forgetFigures, mergeFigures, renderServiceStats, SERVICE_STATS_TOPIC, serviceStats, STATS_EVENT_FIELDS, STATS_HANDLERS } from './stats/mod.ts';
import { keptPast, moveOlder } from './past-requests.ts';
import { entries, minAuxOf, rankOf } from './ranked-list.ts';
import { keys, type CustomerRecord, type ServiceOptions, type ServiceRequest, type TimerData, type TopicStats } from './types.ts';

export const SERVICE_PARTITION = 'service';

export function resolveOptions(options: ServiceOptions = {}): ResolvedOptions {
  return {
    offerTimeoutMs: options.offerTimeoutMs ?? 15_000,
    slaMs: options.slaMs ?? 30_000,
    agingMs: options.agingMs ?? 30_000,
    graceMs: options.graceMs ?? 10_000,
    positionUpdates: options.positionUpdates ?? 10,
    bot: options.bot ?? 'overflow',
    targetWaitMs: options.targetWaitMs ?? 30_000,
    resolveCustomer: options.resolveCustomer ?? ((_view, subject) => subject),
    customerContext: options.customerContext,
    customerProfile: options.customerProfile,
  };
}

/** The senders' events and the customer domain's erasure step (service.forget). */
const STEPS: typeof HANDLERS = {
  ...HANDLERS,
  ...CASE_HANDLERS,
  ...BOT_HANDLERS,
  ...STATS_HANDLERS,
  'service.forget': (c, ev) => {
    forgetFigures(c, ev.names as string[]);
    return forgetCustomer(c, ev);
  },
};
const EVENT_FIELDS = { ...SERVICE_EVENT_FIELDS, ...CASE_EVENT_FIELDS, ...BOT_EVENT_FIELDS, ...STATS_EVENT_FIELDS };

export function serviceProcessor(options: ServiceOptions = {}): Processor {
  const resolved = resolveOptions(options);
  return {
    name: 'service',
    types: Object.keys(EVENT_FIELDS),
    // `request/<id>` stays an event topic for subscribers; its render is the request's status
    // and parties, read by the gateway's permission lookup and GET /v1/requests/:request.
    // `cases/<customer>`: the customer's cases (cases/). `stats/service`: the figures (stats/).
    topicPrefixes: ['queue/', 'request/', 'cases/', SERVICE_STATS_TOPIC],
    schemas: EVENT_FIELDS,
    partitionKey: () => SERVICE_PARTITION,
    // A customer's erasure (customer domain) reaches its requests as this step.
    internalTypes: ['service.forget'],
    // Two customers merged (customer domain): one customer's open and past requests from now on.
    follows: ['identity.linked'],
    onFollowed(view, _ev, outcome) {
      const merged = (outcome.result.merged ?? []) as Array<{ from: string; into: string }>;
      const cases = mergeCases(view, merged);
      return { writes: [...mergeCustomers(view, merged), ...cases.writes, ...mergeFigures(view, merged)], changed: cases.changed };
    },

    apply(view, ev, ctx) {
      try {
        return STEPS[ev.type](new ServiceChange(view, resolved, ctx.now), ev);
      } catch (err) {
        if (err instanceof ServiceRejection) return { result: rejection(err.code, err.message) };
        throw err;
      }
    },

    timerKey: () => SERVICE_PARTITION,

    onTimer(view, timer, ctx) {
      const c = new ServiceChange(view, resolved, ctx.now);
      if (isCaseTimer(timer.data)) caseDue(c, timer.data, timer.at);
      else onTimer(c, timer.data as TimerData, timer.at);
      const { result: _ok, ...effects } = done(c);
      return effects;
    },

    // The data-subject export's service part: the customer's requests with their messages; and
    // its cases (also GET /v1/customers/:subject/cases); the figures (GET /v1/service/stats);
    // one request's messages (GET /v1/requests/:request/messages).
    query(view, name, args) {
      if (name === 'messages') return requestMessages(view, args.request as string);
      const subject = args.subject as string;
      if (name === 'cases') return customerCases(view, subject, resolved.resolveCustomer);
      if (name === 'stats') return serviceStats(view, args);
      if (name !== 'requests') return undefined;
      return customerRequests(view, resolved.resolveCustomer(view, subject) ?? subject);
    },

    render(view, topic) {
      if (topic === SERVICE_STATS_TOPIC) return renderServiceStats(view);
      if (topic.startsWith('cases/')) return customerCases(view, topic.slice('cases/'.length), resolved.resolveCustomer);
      if (topic.startsWith('request/')) return requestStatus(view, topic.slice('request/'.length), resolved.resolveCustomer);
      return renderQueue(view, topic.slice('queue/'.length));
    },
  };
}

function mergeCustomers(view: StateView, merged: Array<{ from: string; into: string }>): Array<[string, unknown]> {
  const state = new StagedState(view);
  const record = (id: string) => state.get<CustomerRecord>(keys.customer(id));
  // Each request read once, then sorted by the time read.
  const byTime = (ids: string[], time: (r: ServiceRequest | undefined) => number) =>
    ids.map((id) => ({ id, t: time(view.get<ServiceRequest>(keys.request(id))) })).sort((a, b) => a.t - b.t).map((e) => e.id);
  for (const { from, into } of merged) {
    const gone = record(from);
    if (!gone) continue;
    const kept = record(into);
    const open = byTime([...(kept?.open ?? []), ...gone.open], (r) => r?.enqueuedAt ?? 0);
    moveOlder(state, from, into);
    const past = keptPast(state, into, byTime([...(kept?.past ?? []), ...gone.past], (r) => -(r?.completedAt ?? 0)));
    state.put(keys.customer(into), { open, past } satisfies CustomerRecord);
    state.put(keys.customer(from), undefined);
  }
  return state.writes();
}

export interface QueueStats {
  topic: string;
  waiting: number;
  offered: number;
  /** How long the oldest queued request had waited at `asOf`, the time of the last change. */
  longestWaitMs: number;
  asOf: number;
  agentsAvailable: number;
  agentsEligible: number;
  slaBreaches: number;
}

/** `queue/<topic>`: the topic's counters and its oldest queued request's wait. */
export function renderQueue(view: StateView, topic: string): QueueStats | undefined {
  const s = view.get<TopicStats>(keys.stats(topic));
  if (!s) return undefined;
  let oldest = Infinity;
  for (const lane of s.lanes) oldest = Math.min(oldest, minAuxOf(view, lane));
  return {
    topic,
    waiting: s.waiting,
    offered: s.offered,
    longestWaitMs: oldest === Infinity ? 0 : Math.max(0, s.updatedAt - oldest),
    asOf: s.updatedAt,
    agentsAvailable: s.agentsAvailable,
    agentsEligible: s.agentsEligible,
    slaBreaches: s.slaBreaches,
  };
}

/** `GET /v1/queues`: every topic that ever had an agent or a request. */
export function renderQueues(view: StateView): Record<string, QueueStats> {
  const out: Record<string, QueueStats> = Object.create(null);
  for (const topic of view.get<string[]>(keys.topicList) ?? []) out[topic] = renderQueue(view, topic)!;
  return out;
}

/**
 * The agents online now. After a restart no desk is connected: the gateway sends
 * `agent.disconnected` for each, so those whose desks do not come back go offline after the grace.
 */
export function onlineAgents(view: StateView): string[] {
  return entries(view, keys.onlineAgents).map((e) => e.id);
}

export interface RequestStatus {
  request: string;
  status: ServiceRequest['status'];
  /** While assigned. */
  agent?: string;
  /** While queued: 1 = next among the requests needing the same channel, language and topic. */
  position?: number;
  customer: string;
  subject: string;
  conversation?: string;
  /** While resolved: who the customer said answered it. */
  resolvedBy?: 'bot' | 'agent';
}

/** `GET /v1/requests/:request` (plus who the request belongs to, for permission checks). */
export function requestStatus(
  view: StateView,
  id: string,
  resolveCustomer: ResolvedOptions['resolveCustomer'],
): RequestStatus | undefined {
  const r = view.get<ServiceRequest>(keys.request(id));
  if (!r) return undefined;
  const lane = requestLane(r);
  const position = lane === undefined ? undefined : rankOf(view, lane, r.id, r.rank);
  return {
    request: id,
    status: r.status,
    ...(r.status === 'assigned' ? { agent: r.agent } : {}),
    ...(position !== undefined ? { position: position + 1 } : {}),
    // After a merge the request belongs to the surviving customer.
    customer: resolveCustomer(view, r.customer) ?? r.customer,
    subject: r.subject,
    ...(r.conversation ? { conversation: r.conversation } : {}),
    ...(r.resolvedBy ? { resolvedBy: r.resolvedBy } : {}),
  };
}
