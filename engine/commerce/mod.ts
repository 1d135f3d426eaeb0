// The commerce domain's public entry point: figures over the orders placed in a sliding window.
export { COMMERCE_PROCESSOR, commerceProcessor, commerceStats, renderCommerceTopic } from './processor.ts';
export { statsRequest, DEFAULT_BY, DEFAULT_WINDOW } from './window.ts';
export type { StatsRequest } from './window.ts';
export { COMMERCE_PARTITION, COMMERCE_TOPIC, KEPT_MINUTES, keys as commerceKeys } from './types.ts';
export type { CommerceCounted, CommerceStats, Dimension, Figures, NewsKind } from './types.ts';
