// The customer domain's public entry point.
export { customerProcessor } from './processor.ts';
export type { Recommendations } from './processor.ts';
export { customer360, customerProfile } from './context.ts';
export { profileWithPoints } from './loyalty.ts';
export { explain, isBlocked, isIdKind, resolveCustomer } from './identity/mod.ts';
export { maskEmail, maskId, maskPhone } from './masking.ts';
export type { ShopperContext, StoreNoticeEvent } from './shopper-notice.ts';
export type { IdentityOptions } from './identity/mod.ts';
// The recommender's two steps, for evaluating it offline on recorded sessions (bench/recs/).
export { recommend, recordActivity } from './recommender/mod.ts';
export type { RecommenderOptions } from './recommender/mod.ts';
export type { CustomerOptions } from './types.ts';
export type { CustomerExport } from './export.ts';
