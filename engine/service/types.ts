// The service domain's state, as stored under its keys. Records are small and per entity
// (agent, request, customer) plus per-lane index records (ranked-list.ts), so an event rewrites
// a few small records, never one that grows with the number of agents or requests.

import type { StateView } from '../types.ts';

/** Channels in a fixed order: capacity and load are number arrays indexed by it. */
export const CHANNELS = ['chat', 'voice', 'email', 'social', 'store'] as const;
export type Channel = (typeof CHANNELS)[number];

export const channelIndex = (channel: string): number => CHANNELS.indexOf(channel as Channel);

/** Lane language of agents and requests that match any language. */
export const ANY_LANGUAGE = '*';

export interface Agent {
  id: string;
  online: boolean;
  status: 'available' | 'away';
  /** Skill topics and their levels (1–10), parallel arrays: no object keys from the wire. */
  topics: string[];
  levels: number[];
  languages: string[];
  /** Per channel (CHANNELS order): how many at once, and how many offers + assignments hold now. */
  capacity: number[];
  load: number[];
  /** Clock ms the last assignment ended (or the agent came online): longest idle wins ties. */
  idleSince: number;
  /** Requests offered to this agent and not yet answered; each holds one unit of its channel. */
  offers: string[];
  /** Requests assigned to this agent and not completed. */
  assigned: string[];
  /** Clock ms its presence grace ends (last desk connection closed), while one runs. */
  graceUntil?: number;
}

/**
 * `bot`: answered by the bot with confidence and waiting on the customer (in no lane, no SLA
 * timer) until it escalates, resolves or asks again; `resolved`: ended by the customer's word.
 */
export type RequestStatus = 'queued' | 'offered' | 'assigned' | 'completed' | 'bot' | 'resolved';

export interface ServiceRequest {
  id: string;
  /** The customer it belongs to (the subject as resolved by ServiceOptions.resolveCustomer). */
  customer: string;
  /** The id it was raised with (a customer id or any linked id). */
  subject: string;
  channel: Channel;
  topic: string;
  /** Required agent language, until the SLA is breached. */
  language?: string;
  priority: number;
  vip: boolean;
  status: RequestStatus;
  /** Clock ms it first entered the queue: its waiting time, kept across declines and timeouts. */
  enqueuedAt: number;
  /** Its place in the queue order (lower first), see rankKey; fixed unless re-queued by presence. */
  rank: number;
  agent?: string;
  offer?: { agent: string; expiresAt: number };
  /** The agent that last declined or let an offer time out: never offered it twice in a row. */
  lastAgent?: string;
  /** Unassigned past slaMs: language no longer required. */
  breached?: true;
  /** The first request of the conversation it joined (continuity), when it joined one. */
  conversation?: string;
  /** The agent of that conversation, tried first. */
  preferredAgent?: string;
  /** Clock ms it ended: completed by its agent, or resolved. */
  completedAt?: number;
  /** Clock ms its current agent accepted it: the start of its handle time. */
  assignedAt?: number;
  /** The bot sent it at least one message (its exchange goes into the offer's context). */
  botAnswered?: true;
  /** Who the customer said resolved it (status `resolved`). */
  resolvedBy?: 'bot' | 'agent';
  /** The customer's rating once it ended (service.rated, at most one), and when it came. */
  rating?: { score: number; comment?: string };
  ratedAt?: number;
}

/** The service requests of a customer (its profile is the customer domain's: ServiceOptions.customerProfile). */
export interface CustomerRecord {
  /** Requests not completed yet, oldest first. */
  open: string[];
  /** The most recent completed requests, newest first (at most PAST_KEPT; older ones: past-requests.ts). */
  past: string[];
}

export const PAST_KEPT = 20;

/** Per-topic counters behind `queue/<topic>`; changed in the same event as what they count. */
export interface TopicStats {
  waiting: number;
  offered: number;
  agentsAvailable: number;
  agentsEligible: number;
  slaBreaches: number;
  /** Request lanes of this topic that ever held a request (for the oldest enqueue time). */
  lanes: string[];
  /** Clock ms of the last change: longestWaitMs is measured at this time. */
  updatedAt: number;
  /**
   * Per language (`*`: every agent), the channel capacities (CHANNELS order), free or busy, of the
   * online, available agents skilled in the topic: the predicted wait's divisor, read without
   * visiting every agent. Absent on a record written before they were kept (then counted anew).
   */
  capacityLanguages?: string[];
  capacities?: number[][];
}

export const BOT_MODES = ['off', 'first', 'overflow'] as const;
export type BotMode = (typeof BOT_MODES)[number];

export interface ServiceOptions {
  /** How long an offer waits for an answer (default 15000 ms). */
  offerTimeoutMs?: number;
  /** Unassigned this long → `sla` alert and language dropped (default 30000 ms). */
  slaMs?: number;
  /** Waiting this long is worth one priority point (default 30000 ms), see rankKey. */
  agingMs?: number;
  /** Presence grace after an agent's last desk connection closes (default 10000 ms). */
  graceMs?: number;
  /**
   * How many waiting requests at the head of a lane are told their new position when it moves
   * (default 10): telling all would be O(queue) messages per event; the rest read GET.
   */
  positionUpdates?: number;
  /**
   * The bot (engine/service/bot/): `off`; `first` (a chat, social or email request with text is
   * answered by the bot and queued for a person only when it is not confident); `overflow`
   * (default: queued as usual, and the bot also answers when the predicted wait exceeds
   * `targetWaitMs`).
   */
  bot?: BotMode;
  /** The predicted wait above which the bot answers in `overflow` mode (default 30000 ms). */
  targetWaitMs?: number;
  /**
   * The customer domain, read from the same StateView. `resolveCustomer`: the customer a
   * request's subject (any linked id, or a merged-away customer) belongs to; default: the
   * subject itself; undefined when the subject names nobody (a blocked value such as
   * `anonymous`): the request is then a customer of its own, `request:<id>`, joined to no other. `customerProfile`: tier and language (default: standard, none).
   * `customerContext`: extra 360 context for an offer (linked identities, recent activity, orders).
   */
  resolveCustomer?: (view: StateView, subject: string) => string | undefined;
  customerProfile?: (view: StateView, customer: string) => { tier: 'standard' | 'vip'; language?: string } | undefined;
  customerContext?: (view: StateView, customer: string) => Record<string, unknown>;
}

/** Score points of a VIP customer: above any `priority` (0–10), so a fresh VIP beats any fresh standard. */
export const VIP_POINTS = 11;
/** Points of a request re-queued because its agent went offline: above every fresh request. */
export const REQUEUE_POINTS = VIP_POINTS + 11;

/**
 * The queue order. Effective priority at time t is `points + (t − enqueuedAt) / agingMs`; every
 * request ages at the same rate, so the order by effective priority never changes with t and
 * equals the order by `enqueuedAt − points × agingMs` (lower first). Stored once per request.
 */
export function rankKey(enqueuedAt: number, points: number, agingMs: number): number {
  return enqueuedAt - points * agingMs;
}

/**
 * Agent order within a lane: highest level first, then longest idle (earliest idleSince).
 * Clock ms stay below 1e13 (year 2286), so one number holds both.
 */
export function agentKey(level: number, idleSince: number): number {
  return (10 - level) * 1e13 + idleSince;
}

// Lane keys put the topic last: channel is an enum and languages are codes without '/', so
// a topic may contain '/' without two lanes sharing a key.
export const keys = {
  agent: (id: string) => `svc/agent/${id}`,
  request: (id: string) => `svc/req/${id}`,
  customer: (id: string) => `svc/cust/${id}`,
  stats: (topic: string) => `svc/stats/${topic}`,
  topicList: 'svc/topics',
  /** Every online agent (a ranked list, all keys 0: by id), for presence checks after a restart. */
  onlineAgents: 'svc/online',
  agentLane: (channel: Channel, language: string, topic: string) => `svc/al/${channel}/${language}/${topic}`,
  requestLane: (channel: Channel, language: string, topic: string) => `svc/rl/${channel}/${language}/${topic}`,
  /** The queued requests whose conversation's agent is this one (a ranked list by rank). */
  preferring: (agent: string) => `svc/pref/${agent}`,
};

export const topics = {
  agent: (id: string) => `agent/${id}`,
  request: (id: string) => `request/${id}`,
  queue: (topic: string) => `queue/${topic}`,
  alerts: 'alerts/service',
};

export const timerIds = {
  offer: (request: string) => `offer/${request}`,
  sla: (request: string) => `sla/${request}`,
  grace: (agent: string) => `grace/${agent}`,
  /** Overflow: the bot looks again at a request it left to a person (bot/modes.ts). */
  botRecheck: (request: string) => `bot/${request}`,
};

export type TimerData =
  | { kind: 'offer'; request: string; agent: string }
  | { kind: 'sla'; request: string }
  | { kind: 'grace'; agent: string }
  | { kind: 'bot'; request: string };
