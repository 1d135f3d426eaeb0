// Service figures and ratings: service.rated, the durable per-minute/hour buckets behind
// GET /v1/service/stats and the `stats/service` topic, on the service partition.
// (The count hooks are called from ../handlers.ts and the bot.)

import type { Handler } from '../change.ts';
import type { EventSchema } from '../../validate.ts';
import { rated, RATED_FIELDS } from './rated.ts';

export const STATS_EVENT_FIELDS: Record<string, EventSchema> = { 'service.rated': RATED_FIELDS };
export const STATS_HANDLERS: Record<string, Handler> = { 'service.rated': rated };

export { countEnded, countRating, countRequested, countResponse } from './count.ts';
export { forgetFigures, mergeFigures } from './customers.ts';
export { renderServiceStats, serviceStats, serviceStatsRequest } from './figures.ts';
export type { ServiceStatsRequest } from './figures.ts';
export { SERVICE_STATS_TOPIC } from './types.ts';
export type { Dimension as ServiceStatsDimension, ServiceFigures, ServiceStats } from './types.ts';
