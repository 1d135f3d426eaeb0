// The customer domain's derived events: the steps by which work reaches the partition that owns
// the state it changes (partitioning.ts). None is accepted from a sender. Each id is made from the
// id of the event that caused it, so it is unique among the derived events not yet applied.

import type { FinalResult, InputEvent } from '../types.ts';
import type { ActivityKind, SessionRecord as SessionLog } from './recommender/mod.ts';
import type { OrderSummary, SessionRecord } from './types.ts';
import { LOYALTY_INTERNAL_TYPES, type LoyaltyRecord } from './loyalty-record.ts';

/**
 * Work for a customer whose state lives on another partition than where it arrived: an activity
 * (answered to `origin`, the partition it arrived on) or an order's news (not answered).
 */
export interface ForwardedEvent extends InputEvent {
  type: 'customer.forwarded';
  customer: string;
  /** The sender's event, or the order event followed. */
  event: InputEvent;
  /** The event time of `event`. */
  time: number;
  /** Forwards so far: bounded, as a cycle of moves in corrupt state must not loop. */
  hops: number;
  /** The partition key the sender's event waits on, for its answer. */
  origin?: string;
  /** An order's news (orders.ts), when `event` is an order event. */
  order?: OrderNews;
}

/** What an order event means for its customer's recent orders. */
export type OrderNews = { summary: OrderSummary } | { order: string; status: OrderSummary['status'] };

/** The answer to a forwarded activity, back on the partition its sender waits on. */
export interface AnsweredEvent extends InputEvent {
  type: 'customer.answered';
  origin: string;
  answer: { id: string; result: FinalResult; event: InputEvent };
}

/** The state kept under `from` belongs to customer `into` now: `from`'s partition hands it over. */
export interface MovedEvent extends InputEvent {
  type: 'customer.moved';
  from: string;
  into: string;
  /** The link waiting until this state has arrived (LinkWait). */
  link?: string;
}

/** `from`'s state, arriving at `into`'s partition. */
export interface AbsorbEvent extends InputEvent {
  type: 'customer.absorb';
  from: string;
  into: string;
  session?: { record: SessionRecord; log?: SessionLog };
  orders: OrderSummary[];
  /** Ids of its orders older than the summaries (orders.ts, olderOrders). */
  older?: string[];
  /** Its loyalty points and their history (loyalty.ts). */
  loyalty?: LoyaltyRecord;
  hops: number;
  link?: string;
}

/** State a link moved has arrived at the survivor's partition: one fewer for the link to wait for. */
export interface ArrivedEvent extends InputEvent {
  type: 'customer.arrived';
  link: string;
}

/** `id/wait/<link>`: a link answered once the state it moved has arrived. */
export interface LinkWait {
  left: number;
  result: FinalResult;
  event: InputEvent;
  /** The survivor, then every name moved into it: their `recs/` topics change once all have arrived. */
  touch?: string[];
}

/** `recs/<name>` shows another list now: its partition renders it (topics change where their name lives). */
export interface TouchEvent extends InputEvent {
  type: 'recs.touch';
  name: string;
  /** `loyalty/<name>` rather than `recs/<name>`. */
  topic?: 'loyalty';
}

/** The item's half of an activity, on the item bucket's partition. */
export interface ItemActivityEvent extends InputEvent {
  type: 'rec.item';
  sku: string;
  session: string;
  kind: ActivityKind;
  time: number;
  /** The session had the SKU already: the index lists it. */
  had: boolean;
}

/** A session gained an item by a merge: the item's index lists it too. */
export interface ItemIndexEvent extends InputEvent {
  type: 'rec.indexed';
  sku: string;
  session: string;
  time: number;
}

/** Erasure (erasure.ts): everything kept under `name` goes, on `name`'s partition. */
export interface ForgetEvent extends InputEvent {
  type: 'customer.forget';
  /** The `customer.erased` event this belongs to: its record (`id/erase/<erasure>`) counts the replies. */
  erasure: string;
  name: string;
}

/** What an erasure removed somewhere, back at the identity partition. */
export interface ForgottenEvent extends InputEvent {
  type: 'customer.forgotten';
  erasure: string;
  /** From a name's partition (one of the erasure's `customer.forget`s), else from a step one of those sent. */
  part: boolean;
  /** Further steps that name's partition sent, each of which replies too. */
  add: number;
  counts: Partial<ErasedCounts>;
}

/** What an erasure removed: the answer's `erased`. */
export interface ErasedCounts {
  ids: number;
  sessions: number;
  orders: number;
  requests: number;
  messages: number;
  /** Kiosk screens that showed the customer. */
  kiosks: number;
  /** Its cases (engine/service/cases/), with their notes. */
  cases: number;
}

/** Erasure: the kiosk screens showing one of `names` show nobody, on the kiosks' partition. */
export interface KioskForgetEvent extends InputEvent {
  type: 'kiosk.forget';
  erasure: string;
  names: string[];
}

/** Erasure: a customer's sessions blanked out of an item's index, on the item bucket's partition. */
export interface UnindexEvent extends InputEvent {
  type: 'rec.unindex';
  erasure: string;
  sku: string;
  sessions: string[];
}

export const INTERNAL_TYPES = ['customer.forget', 'customer.forgotten', 'rec.unindex', 'kiosk.forget', 'customer.arrived', 'customer.forwarded', 'customer.answered', 'customer.moved', 'customer.absorb', 'recs.touch', 'rec.item', 'rec.indexed', ...LOYALTY_INTERNAL_TYPES];
