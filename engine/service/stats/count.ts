// Counting the service figures as requests go: each count lands in the buckets of the time it
// is counted at, per topic and per channel, and at a request's end per agent. Times are the
// engine's clock (the one requests are queued and timed by), never a sender's timestamp.

import { countInBuckets, countInKeptBuckets, minuteOf } from '../../windows/mod.ts';
import type { ServiceChange } from '../change.ts';
import type { ServiceRequest } from '../types.ts';
import { withTime } from './histogram.ts';
import { COUNTERS, DIMENSIONS, figureKeys, LAST_ENDS_KEPT, LEVELS, N, REPEAT_MS, SERVICE_STATS_TOPIC, shardOf, type Dimension, type Increment, type LastEnd, type RequestFigures, type Row } from './types.ts';

/** `rows` with the row of `key` increased, copied: values read from state are never changed in place. */
export function bumped(rows: readonly Row[] | undefined, key: string, add: Increment): Row[] {
  const out = (rows ?? []).slice();
  let i = out.findIndex((r) => r.key === key);
  if (i < 0) {
    i = out.length;
    out.push({ key, n: new Array<number>(COUNTERS).fill(0), fr: [], ht: [] });
  }
  const row = out[i];
  const n = row.n.slice();
  for (const [index, by] of add.n ?? []) n[index] += by;
  out[i] = {
    key,
    n,
    fr: add.fr === undefined ? row.fr : withTime(row.fr, add.fr),
    ht: add.ht === undefined ? row.ht : withTime(row.ht, add.ht),
  };
  return out;
}

/** Counts `add` for `key` of dimension `dim` in the buckets of `at` (now, or a still-kept earlier time when `late`). */
function count(c: ServiceChange, dim: Dimension, key: string, add: Increment, at = c.now, late = false): void {
  const asOf = c.get<number>(figureKeys.asOf);
  if (asOf === undefined || c.now > asOf) {
    // Once a minute, every shard's buckets past 24 h go, whether or not it is counted in again.
    if (asOf !== undefined && minuteOf(c.now) > minuteOf(asOf)) pruneAll(c);
    c.put(figureKeys.asOf, c.now);
  }
  const levels = LEVELS[dim][shardOf(dim, key)];
  const update = (rows: Row[] | undefined) => bumped(rows, key, add);
  if (late) countInKeptBuckets<Row[]>(c, levels, at, c.now, update);
  else countInBuckets<Row[]>(c, levels, at, c.now, update);
  c.topicChanged(SERVICE_STATS_TOPIC);
}

function pruneAll(c: ServiceChange): void {
  for (const dim of DIMENSIONS) for (const levels of LEVELS[dim]) countInBuckets<Row[]>(c, levels, undefined, c.now, (rows) => rows!);
}

/** Counts `add` for the request's topic and its channel. */
function countByRequest(c: ServiceChange, r: ServiceRequest, add: Increment, at = c.now, late = false): void {
  count(c, 'topic', r.topic, add, at, late);
  count(c, 'channel', r.channel, add, at, late);
}

const one = (index: number): Increment => ({ n: [[index, 1]] });

function figuresOf(c: ServiceChange, r: ServiceRequest): RequestFigures {
  // A bot answer in the same event as the request comes before countRequested: raised now.
  return c.get<RequestFigures>(figureKeys.request(r.id)) ?? { requestedAt: c.now };
}

/** A request was raised: counted now; a repeat of a topic its customer ended within 72 h is counted against that end. */
export function countRequested(c: ServiceChange, r: ServiceRequest): void {
  c.put(figureKeys.request(r.id), figuresOf(c, r));
  countByRequest(c, r, one(N.requests));
  const ends = c.get<LastEnd[]>(figureKeys.lastEnds(r.customer));
  if (ends === undefined) return;
  const earlier = ends.find((e) => e.topic === r.topic);
  if (earlier !== undefined && c.now - earlier.endedAt <= REPEAT_MS) {
    count(c, 'topic', earlier.topic, one(N.repeats), earlier.endedAt, true);
    count(c, 'channel', earlier.channel, one(N.repeats), earlier.endedAt, true);
    if (earlier.agent !== undefined) count(c, 'agent', earlier.agent, one(N.repeats), earlier.endedAt, true);
  }
  // Counted once: the new request's own end takes the topic's place.
  const kept = ends.filter((e) => e.topic !== r.topic && c.now - e.endedAt <= REPEAT_MS);
  c.put(figureKeys.lastEnds(r.customer), kept.length > 0 ? kept : undefined);
}

/**
 * A message from an agent or the bot on a request: the first one is its first response (counted
 * now, with the time since the request); the bot's first answer also counts toward containment.
 */
export function countResponse(c: ServiceChange, r: ServiceRequest, from: 'agent' | 'bot'): void {
  const figures = figuresOf(c, r);
  const first = figures.firstResponseAt === undefined;
  const botFirst = from === 'bot' && figures.botAnsweredAt === undefined;
  if (!first && !botFirst) return;
  const add: Increment = { ...(first ? { fr: c.now - figures.requestedAt } : {}), ...(botFirst ? one(N.botAnswered) : {}) };
  countByRequest(c, r, add);
  c.put(figureKeys.request(r.id), { ...figures, ...(first ? { firstResponseAt: c.now } : {}), ...(botFirst ? { botAnsweredAt: c.now } : {}) });
}

/**
 * A request ended (completed, or resolved by the bot or an agent): counted now per topic and
 * channel, and per agent when one had it; a bot resolution counted back at the bot's first
 * answer; the customer's end on this topic remembered for first-contact resolution.
 */
export function countEnded(c: ServiceChange, r: ServiceRequest, by: 'agent' | 'bot'): void {
  const figures = figuresOf(c, r);
  c.put(figureKeys.request(r.id), undefined);
  const n: Array<[number, number]> = [[N.ended, 1]];
  if (figures.firstResponseAt === undefined) n.push([N.abandoned, 1]);
  const handled = by === 'agent' && r.assignedAt !== undefined ? { ht: Math.max(0, c.now - r.assignedAt) } : {};
  countByRequest(c, r, { n, ...handled });
  if (r.agent !== undefined) {
    const fr = figures.firstResponseAt === undefined ? {} : { fr: figures.firstResponseAt - figures.requestedAt };
    count(c, 'agent', r.agent, { n: [[N.requests, 1], ...n], ...fr, ...handled });
  }
  if (by === 'bot' && figures.botAnsweredAt !== undefined) countByRequest(c, r, one(N.contained), figures.botAnsweredAt, true);
  const customer = c.ownerOf(r);
  // A request whose subject names nobody is a customer of its own: it can never come back.
  if (customer === `request:${r.id}`) return;
  const ends = (c.get<LastEnd[]>(figureKeys.lastEnds(customer)) ?? []).filter((e) => e.topic !== r.topic && c.now - e.endedAt <= REPEAT_MS);
  const end: LastEnd = { topic: r.topic, endedAt: c.now, channel: r.channel, ...(r.agent !== undefined ? { agent: r.agent } : {}) };
  c.put(figureKeys.lastEnds(customer), [end, ...ends].slice(0, LAST_ENDS_KEPT));
}

/** A rating: counted now per topic, channel and the agent that had the request. */
export function countRating(c: ServiceChange, r: ServiceRequest, score: number): void {
  const add: Increment = { n: [[N.ratings, 1], ...(score >= 4 ? ([[N.satisfied, 1]] as Array<[number, number]>) : [])] };
  countByRequest(c, r, add);
  if (r.agent !== undefined) count(c, 'agent', r.agent, add);
}
