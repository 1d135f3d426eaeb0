// The role registry: every actor the omnichannel scenario can mix, by the name a scenario file
// uses. The retailer's service side joins here as the engine learns it: a role for agent desks
// (online, accepting or declining offers, completing requests) once issue C routes service
// requests, and one for customers (identity, activity, chats) once issue D lands. Until then
// those names are known but refused, so a scenario file that asks for them is told why instead
// of getting an imitation.

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
  agent: 'agent desks accepting offers arrive with issue C (service routing)',
  customer: 'customers browsing and chatting arrive with issue D (customers and recommendations)',
};

export const ROLE_NAMES = Object.keys(ROLES);
