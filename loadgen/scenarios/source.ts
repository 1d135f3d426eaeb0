// What a scenario is to the run: the events to send (set-up first, then one at a time on the
// schedule) and the subscribers to connect, each with what it watches and who it is.

import type { InputEvent } from '../../engine/mod.ts';
import type { FirstContact } from './first-contact.ts';

/**
 * Who a subscriber is, which decides its token: a storefront shopper uses the run's subscriber
 * token (a customer token, or none: anonymous); a kiosk gets its own kiosk token (sub = kiosk id,
 * loc = its store), as a real in-store screen would; a signed-in member its own customer token
 * (sub = its customer id), the only one that may read its `recs/<customer>`; a store associate its
 * own associate token (sub = staff id, loc = its store), the only one that may read `store/<loc>`.
 */
export type Watcher = { role: 'shopper' } | { role: 'kiosk'; kiosk: string; store: string } | { role: 'customer'; customer: string } | { role: 'associate'; staff: string; store: string };

export interface SubscriberPlan {
  /** The topics this client subscribes to. */
  topics: string[];
  as: Watcher;
}

export interface EventSource {
  readonly name: string;
  /** Bodies to send before the run (locations, then every row's starting stock). */
  setup(): InputEvent[][];
  next(): InputEvent;
  /** What each of `count` subscribers watches, and as whom; deterministic. */
  subscribers(count: number): SubscriberPlan[];
  /** Agent desks to connect (the service scenario): their agent ids, and which event made a request. */
  readonly desks?: DeskPlan;
  /**
   * The status the run's steps will leave a placed order in (its customer follows it until
   * then); asked once per order; undefined for a scenario without orders to follow.
   */
  orderEnd?(order: string): string | undefined;
  /** Most customers following their orders at once (one connection each); 0 or absent: none. */
  readonly orderFollowers?: number;
  /** The service scenario with first contact: each request's customer, what it asked and will do. */
  readonly firstContact?: FirstContact;
  /** The loadgen flags this scenario never reads: given ones are reported as ignored. */
  readonly unusedFlags: readonly string[];
}

export interface DeskPlan {
  agents: string[];
  /** Chats the desks hold at once, all agents together (the sum of their `capacity.chat`). */
  chats: number;
  /** The run's event number of the `service.requested` that made `request`, if it was one. */
  requestIndex(request: string): number | undefined;
}

/** Flags only the service scenario's desks read. */
export const DESK_FLAGS = ['desks', 'think-ms', 'handle-ms', 'chat-messages', 'chat-customers'] as const;

export const SHOPPER: Watcher = { role: 'shopper' };

/** Events per set-up request. */
export const SETUP_BODY = 5000;
