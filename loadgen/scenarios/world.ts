// What every role of the omnichannel scenario shares: the catalogue, the stores and warehouses,
// the shoppers, the run's settings, and what a role is.

import type { InputEvent } from '../../engine/mod.ts';
import type { Catalogue } from './catalogue.ts';
import type { Geography } from './geography.ts';
import type { OmnichannelConfig } from './types.ts';
import type { Shoppers } from './shoppers.ts';

export interface World {
  catalogue: Catalogue;
  geography: Geography;
  shoppers: Shoppers;
  config: OmnichannelConfig;
  /** Prefix of every id the run makes (events, reservations, orders, transfers): runs never collide. */
  idPrefix: string;
  /** Events between a step and a follow-up that names it (see backlog.ts). */
  lag: number;
  /** Order → the status the run's steps leave it in, until the order's follower asks (EventSource.orderEnd). */
  orderEnds: Map<string, string>;
}

/** One kind of actor (checkout, store counter, …): a small generator of its own events. */
export interface Role {
  /** Its next event, which will be event number `n` of the run, with id `id`. */
  next(n: number, id: string): InputEvent;
}

/** Makes a role; `rand` is the role's own seeded stream, so roles do not disturb each other. */
export type RoleFactory = (world: World, rand: () => number) => Role;

/** 1 to `max`, uniformly. */
export function upTo(max: number, rand: () => number): number {
  return 1 + Math.floor(rand() * max);
}
