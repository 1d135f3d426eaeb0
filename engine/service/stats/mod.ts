// Service figures and ratings: service.rated, the durable per-minute/hour buckets behind
// GET /v1/service/stats and the `stats/service` topic, on the service partition.
// (Hooks called from ../handlers.ts and the bot; filled in by the stats' own files.)

import type { Handler, ServiceChange } from '../change.ts';
import type { EventSchema } from '../../validate.ts';
import type { ServiceRequest } from '../types.ts';

export const STATS_EVENT_FIELDS: Record<string, EventSchema> = {};
export const STATS_HANDLERS: Record<string, Handler> = {};

/** A request was raised (after routing). */
export function countRequested(_c: ServiceChange, _r: ServiceRequest): void {}

/** A message from an agent or the bot on a request: the first one is its first response. */
export function countResponse(_c: ServiceChange, _r: ServiceRequest, _at: number): void {}

/** A request ended: completed by its agent, or resolved (by the bot or an agent, as the customer says). */
export function countEnded(_c: ServiceChange, _r: ServiceRequest, _by: 'agent' | 'bot'): void {}
