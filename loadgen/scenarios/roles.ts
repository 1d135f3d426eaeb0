// The role registry: every actor the omnichannel scenario can mix, by the name a scenario file
// uses. Agent desks are not a role: they are WebSocket clients with their own agent set-up, so
// they run as the `service` scenario (scenarios/service.ts, desk-group.ts) rather than as a share
// of this stream; so do the customers chatting with them (chat-customers.ts), who only exist
// while a desk holds their request. Those names are known but refused, so a scenario file that
// asks for them is told where they are instead of getting an imitation.

import { cartRole } from './cart.ts';
import { checkoutRole } from './checkout.ts';
import { counterRole } from './counter.ts';
import { customerRole } from './customers.ts';
import { warehouseRole } from './warehouse.ts';
import type { RoleFactory } from './world.ts';

/** In a fixed order: each role's random stream is seeded by its place here (new roles go last). */
export const ROLES: Readonly<Record<string, RoleFactory>> = {
  checkout: checkoutRole,
  cart: cartRole,
  counter: counterRole,
  warehouse: warehouseRole,
  customer: customerRole,
};

export const PLANNED_ROLES: Readonly<Record<string, string>> = {
  agent: 'agent desks are not mixed into the omnichannel stream; run them with --scenario service',
  chat: 'customers chatting with agents are the service scenario\'s chat customers (--scenario service, --chat-messages N); the "customer" role here browses, signs in and identifies at kiosks',
};

export const ROLE_NAMES = Object.keys(ROLES);
