// The stock domain's public entry point.
export { stockProcessor, renderStockTopic } from './processor.ts';
export { allocateShipment, haversineKm } from './allocation.ts';
export { availableAt, keys as stockKeys, topics as stockTopics } from './types.ts';
export type { AllocationLine, Location, Order, Reservation, SkuState, StockOptions } from './types.ts';
