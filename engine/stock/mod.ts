// The stock domain's public entry point.
export { stockProcessor, renderStockTopic } from './processor.ts';
export { allocateShipment, haversineKm } from './allocation.ts';
export { availableAt, keys as stockKeys, topics as stockTopics } from './types.ts';
export { orderParties, orderView } from './order-view.ts';
export type { OrderParties, OrderView } from './order-view.ts';
export type { AllocationLine, Location, Order, OrderStatus, Reservation, SkuState, StockOptions } from './types.ts';
