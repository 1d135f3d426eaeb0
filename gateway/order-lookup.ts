// Who an order concerns and which ids name one customer, read from the engine's committed state.
// The permission rules (auth/roles.ts) only see these narrow views, so the order record's shape
// and the identity layout can change without touching them.

import { idProblem, orderParties, resolveCustomer } from '../engine/mod.ts';
import type { OrderFacts, OrderLookup, SameCustomer } from './auth/roles.ts';
import { committedView, type GatewayEngine } from './engine-port.ts';

/** Both, for the role checks' options. */
export function orderFactsFromState(engine: Pick<GatewayEngine, 'read'>): Required<OrderFacts> {
  return { lookupOrder: orderLookupFromState(engine), sameCustomer: sameCustomerFromState(engine) };
}

export function orderLookupFromState(engine: Pick<GatewayEngine, 'read'>): OrderLookup {
  const view = committedView(engine);
  // An id no event could carry names no order.
  return (orderId) => (idProblem(orderId) === null ? orderParties(view, orderId) : undefined);
}

/** Linked ids name one customer: the one identity resolves both to. Unknown ids name nobody. */
export function sameCustomerFromState(engine: Pick<GatewayEngine, 'read'>): SameCustomer {
  const view = committedView(engine);
  return (a, b) => {
    if (a === b) return true;
    const customer = resolveCustomer(view, a);
    return customer !== undefined && resolveCustomer(view, b) === customer;
  };
}
