// The role registry: every actor the omnichannel scenario can mix, by the name a scenario file
// uses. Agent desks are not a role: they are WebSocket clients with their own agent set-up, so
// they run as the `service` scenario (scenarios/service.ts, desk-group.ts) rather than as a share
// of this stream. Customers (identity, activity, chats) join once issue D lands. Those names are
// known but refused, so a scenario file that asks for them is told why instead of getting an
// imitation.

import { cartRole } from './cart.ts';
import { checkoutRole } from './checkout.ts';
import { counterRole } from './counter.ts';
import { warehouseRole } from './warehouse.ts';
import type { RoleFactory } from './world.ts';

/** In a fixed order: each role's random stream is seeded by its place here. */
export const ROLES: Readonly<Record<string, RoleFactory>> = {
  checkout: checkoutRole,
  cart: cartRole,
  counter: counterRole,
  warehouse: warehouseRole,
};

export const PLANNED_ROLES: Readonly<Record<string, string>> = {
  agent: 'agent desks (issue C) are not mixed into the omnichannel stream; run them with --scenario service',
  customer: 'customers browsing and chatting arrive with issue D (customers and recommendations)',
};

export const ROLE_NAMES = Object.keys(ROLES);
