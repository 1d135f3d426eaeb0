// The steps of the stock sagas that run at a SKU's partition: the only ones that change a SKU's
// rows for a reservation or an order. Each answers the step that asked by emitting a reply (a
// refusal included: a derived event's own answer is discarded, and its effects are kept only
// when it is ok), so each always returns ok.

import type { EventError, FinalResult, InputEvent } from '../types.ts';
import { ON_HAND, availableAt } from './types.ts';
import { MAX_ROW_UNITS, type StockChange } from './change.ts';
import { insufficientError, type Handler } from './outcomes.ts';

/** Who asked for a hold: the reservation's partition (stock.held) or the order's (order.held). */
export type HoldReplyType = 'stock.held' | 'order.held';

/** Asks a SKU to hold `qty` (at `location`, else where it has the most available). */
export interface HoldEvent extends InputEvent {
  type: 'stock.hold';
  sku: string;
  qty: number;
  location?: string;
  reservation: string;
  /** The id of the event whose saga this is: a reply for another saga is stale. */
  origin: string;
  reply: HoldReplyType;
  order?: string;
  line?: number;
}

/** A SKU's answer to a hold: `location` when held, `error` when refused. */
export interface HoldReply extends InputEvent {
  type: HoldReplyType;
  sku: string;
  qty: number;
  reservation: string;
  origin: string;
  location?: string;
  error?: EventError;
  order?: string;
  line?: number;
}

/** Ends a hold at a SKU: `sold` also takes the goods off the shelf. */
export interface UnholdEvent extends InputEvent {
  type: 'stock.unhold';
  sku: string;
  location: string;
  qty: number;
  sold: boolean;
  reservation: string;
  /** The answer of the release or commit that ended it, given once the SKU's rows changed. */
  answer?: { id: string; result: FinalResult; event: InputEvent };
  /** An order being closed waits for each of its lines (order.unheld). */
  reply?: { order: string; origin: string; line: number };
}

export function unholdEvent(
  id: string,
  hold: { sku: string; location: string; qty: number; reservation: string },
  sold: boolean,
  extra: Pick<UnholdEvent, 'answer' | 'reply'> = {},
): UnholdEvent {
  const { sku, location, qty, reservation } = hold;
  return { id, type: 'stock.unhold', sku, location, qty, sold, reservation, ...extra };
}

/**
 * Where `qty` of `sku` can be held: at `location` when given, else the location with the most
 * available (ties: the smallest id), so a hold leaves the most elsewhere. Else why not.
 */
export function chooseHold(c: StockChange, sku: string, qty: number, location: string | undefined): string | EventError {
  if (location !== undefined) {
    const have = c.available(sku, location);
    return have < qty ? insufficientError(sku, location, qty, have) : location;
  }
  let best = 0;
  let most = 0;
  let total = 0;
  let chosen: string | undefined;
  const state = c.skuState(sku);
  for (let i = 0; state && i < state.locations.length; i++) {
    const a = availableAt(state, i);
    const loc = state.locations[i];
    most = Math.max(most, a);
    total += a;
    if (a >= qty && (a > best || (a === best && chosen !== undefined && loc < chosen))) {
      best = a;
      chosen = loc;
    }
  }
  // A hold is taken at one location: what counts is the most any one of them has.
  return chosen ?? insufficientError(sku, undefined, qty, most, total > most ? ` at any one location (${total} in all)` : '');
}

const hold: Handler = (c, raw) => {
  const ev = raw as HoldEvent;
  const where = chooseHold(c, ev.sku, ev.qty, ev.location);
  if (typeof where === 'string') c.change(ev.sku, where, { reserved: ev.qty });
  const { sku, qty, reservation, origin, order, line } = ev;
  const reply: HoldReply = {
    id: `${ev.id}/reply`,
    type: ev.reply,
    sku,
    qty,
    reservation,
    origin,
    ...(typeof where === 'string' ? { location: where } : { error: where }),
    ...(order !== undefined ? { order, line } : {}),
  };
  c.emit(reply);
  return c.effects();
};

const unhold: Handler = (c, raw) => {
  const ev = raw as UnholdEvent;
  const { sku, location, qty } = ev;
  // A sale that would take the row past its bound (a row sold far below zero at the counter)
  // ends the hold without selling, and its commit is answered why: nothing stays held.
  const state = c.skuState(sku);
  const i = state ? state.locations.indexOf(location) : -1;
  const onHand = i < 0 ? 0 : state!.rows[3 * i + ON_HAND];
  const sell = ev.sold && Math.abs(onHand - qty) <= MAX_ROW_UNITS;
  c.change(sku, location, { reserved: -qty, onHand: sell ? -qty : 0 });
  if (ev.answer) {
    const result: FinalResult = sell === ev.sold
      ? ev.answer.result
      : { ok: false, error: { code: 'invalid_event', message: `${sku} at ${location} would pass ${MAX_ROW_UNITS} units; the hold was released unsold` } };
    // Answered where it was applied: the reservation's partition (reservations.ts, unheld).
    c.emit({ id: `${ev.id}/answer`, type: 'stock.unheld', reservation: ev.reservation, answer: { ...ev.answer, result } });
  }
  if (ev.reply) c.emit({ id: `${ev.id}/reply`, type: 'order.unheld', ...ev.reply });
  return c.effects();
};

/** A shipped order's question to one SKU: how much every location has available. */
const quote: Handler = (c, ev) => {
  const rows: Array<[string, number]> = [];
  const state = c.skuState(ev.sku as string);
  for (let i = 0; state && i < state.locations.length; i++) {
    const a = availableAt(state, i);
    if (a > 0) rows.push([state.locations[i], a]);
  }
  c.emit({ id: `${ev.id}/reply`, type: 'order.quoted', order: ev.order, origin: ev.origin, line: ev.line, sku: ev.sku, rows });
  return c.effects();
};

export const SKU_STEPS: Record<string, Handler> = {
  'stock.hold': hold,
  'stock.unhold': unhold,
  'stock.quote': quote,
};
