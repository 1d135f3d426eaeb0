// The processors `omni serve` runs, wired together: the service domain reads customers'
// identities, profiles and 360 context through the customer domain's pure readers.
import { commerceProcessor } from './commerce/mod.ts';
import { customer360, customerProcessor, isBlocked, profileWithPoints, resolveCustomer, type CustomerOptions, type IdentityOptions } from './customers/mod.ts';
import { serviceProcessor } from './service/mod.ts';
import type { ServiceOptions } from './service/types.ts';
import { stockProcessor } from './stock/mod.ts';
import type { StockOptions } from './stock/types.ts';
import type { Processor } from './types.ts';

export interface DomainOptions {
  stock?: StockOptions;
  service?: ServiceOptions;
  customers?: CustomerOptions;
}

/** The service processor reading customers through the customer domain (`vipPoints`: a balance that makes a customer vip). */
export function wiredServiceProcessor(options: ServiceOptions = {}, identity?: IdentityOptions, vipPoints?: number): Processor {
  return serviceProcessor({
    // A blocked subject (`anonymous`, `0`, …) names nobody: its request joins no one else's.
    resolveCustomer: (view, subject) => (isBlocked(subject, identity) ? undefined : (resolveCustomer(view, subject) ?? subject)),
    customerProfile: profileWithPoints(vipPoints),
    customerContext: customer360,
    ...options,
  });
}

export function defaultProcessors(options: DomainOptions = {}): Processor[] {
  // The commerce processor runs here, so the order steps send it their news.
  return [stockProcessor({ countCommerce: true, ...options.stock }), wiredServiceProcessor(options.service, options.customers?.identity, options.customers?.vipPoints), customerProcessor(options.customers), commerceProcessor()];
}
