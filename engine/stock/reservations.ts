// The reservation saga, at the reservation's partition (resKey): it owns `stock/res/<id>` and the
// expiry timer; the SKU's partition owns the rows (holds.ts).
//
//   stock.reserve  → pending record, stock.hold to the SKU            (answer pending)
//   stock.hold     → SKU holds or refuses, replies stock.held
//   stock.held     → record in force + expiry timer, or deleted       (answers the reserve)
//   stock.release / stock.commit / expiry timer
//                  → record deleted, stock.unhold to the SKU           (it answers release/commit)
//
// A release or commit arriving while the reserve is pending waits in the record.

import type { EventError, FinalResult, InputEvent, TimerSpec } from '../types.ts';
import type { StockChange } from './change.ts';
import { unholdEvent, type HoldEvent, type HoldReply } from './holds.ts';
import { rejection, unknownLocation, unknownReservation, type Handler } from './outcomes.ts';
import { isPendingReservation, keys, type PendingReservation, type Reservation, type ReservationRecord } from './types.ts';

export const timerId = (reservation: string) => `res/${reservation}`;

/** Past its expiry but not yet released by its timer (which may be queued behind events). */
const expired = (res: Reservation, now: number) => res.expiresAt !== undefined && res.expiresAt <= now;

/** Names the unhold of an expired hold, whether its timer or a new reserve of its id ends it. */
const expiryId = (res: Reservation) => `${res.id}/expired@${res.expiresAt}`;

/** Deletes a hold in force and asks its SKU to end it. */
function endHold(c: StockChange, res: Reservation, sold: boolean, unholdId: string, answer?: { id: string; result: FinalResult; event: InputEvent }): void {
  c.put(keys.reservation(res.id), undefined);
  if (res.expiresAt !== undefined) c.cancelTimer(timerId(res.id));
  c.emit(unholdEvent(unholdId, { ...res, reservation: res.id }, sold, answer ? { answer } : {}));
}

/** Why a release (or a commit, `sold`) of a hold in force is refused, or null. */
function endRefusal(res: Reservation, sold: boolean, now: number): EventError | null {
  if (sold && expired(res, now)) return unknownReservation(`reservation '${res.id}' expired`);
  if (res.order) return { code: 'conflict', message: `reservation '${res.id}' belongs to order '${res.order}'; fulfil or cancel the order` };
  return null;
}

const noReservation = (id: string) => unknownReservation(`no active reservation '${id}'`);

const reserve: Handler = (c, ev, ctx, settings) => {
  const id = ev.reservation as string;
  const existing = c.view.get<ReservationRecord>(keys.reservation(id));
  if (existing && (isPendingReservation(existing) || existing.order || !expired(existing, ctx.now))) {
    return rejection('conflict', `reservation '${id}' already exists`);
  }
  // An optional field sent as null counts as absent.
  const location = (ev.location ?? undefined) as string | undefined;
  if (location !== undefined && !c.location(location)) return unknownLocation(location);
  // An expired hold whose timer has not run yet ends now, as the timer would end it.
  if (existing) endHold(c, existing, false, expiryId(existing));
  const sku = ev.sku as string;
  const qty = ev.qty as number;
  const channel = (ev.channel ?? undefined) as string | undefined;
  const expiresAt = ctx.now + Math.round((ev.ttlMs as number | undefined) ?? settings.defaultTtlMs);
  const record: PendingReservation = {
    id,
    sku,
    qty,
    ...(location !== undefined ? { location } : {}),
    expiresAt,
    ...(channel ? { channel } : {}),
    pending: true,
    origin: ev.id,
    event: ev,
  };
  c.put(keys.reservation(id), record);
  const hold: HoldEvent = { id: `${ev.id}/hold`, type: 'stock.hold', sku, qty, reservation: id, origin: ev.id, reply: 'stock.held', ...(location !== undefined ? { location } : {}) };
  c.emit(hold);
  return c.pending();
};

/** The SKU's reply to a reservation's hold. */
const held: Handler = (c, raw, ctx) => {
  const ev = raw as HoldReply;
  const key = keys.reservation(ev.reservation);
  const rec = c.view.get<ReservationRecord>(key);
  if (!rec || !isPendingReservation(rec) || rec.origin !== ev.origin) {
    // Nobody waits for this hold (its saga is over): end it rather than leave it held — unless
    // it is a repeat of the reply that put this record in force.
    const repeated = rec?.origin === ev.origin;
    if (!repeated && ev.location !== undefined) c.emit(unholdEvent(`${ev.id}/undo`, { ...ev, location: ev.location }, false));
    return c.effects();
  }
  if (ev.location === undefined) {
    c.put(key, undefined);
    c.answer(rec.origin, { ok: false, error: ev.error! });
    for (const w of rec.waiting ?? []) c.answer(w.id, { ok: false, error: noReservation(rec.id) });
    return c.effects();
  }
  const { id, sku, qty, expiresAt, channel, origin } = rec;
  const res: Reservation = { id, sku, location: ev.location, qty, expiresAt, ...(channel ? { channel } : {}), origin };
  c.answer(origin, { ok: true, reservation: id, location: res.location, expiresAt }, rec.event);
  // Releases and commits that came meanwhile, as if they came now: the first that may end it does.
  let ended = false;
  for (const w of rec.waiting ?? []) {
    const refusal = ended ? noReservation(res.id) : endRefusal(res, w.type === 'stock.commit', ctx.now);
    if (refusal) {
      c.answer(w.id, { ok: false, error: refusal });
      continue;
    }
    endHold(c, res, w.type === 'stock.commit', `${w.id}/unhold`, { id: w.id, result: { ok: true, reservation: res.id }, event: w });
    ended = true;
  }
  if (!ended) {
    c.put(key, res);
    c.setTimer({ id: timerId(res.id), at: res.expiresAt!, data: { reservation: res.id } });
  }
  return c.effects();
};

function endReservation(sold: boolean): Handler {
  return (c, ev, ctx) => {
    const id = ev.reservation as string;
    const key = keys.reservation(id);
    const rec = c.view.get<ReservationRecord>(key);
    if (!rec) return { result: { ok: false, error: noReservation(id) } };
    if (isPendingReservation(rec)) {
      c.put(key, { ...rec, waiting: [...(rec.waiting ?? []), ev] });
      return c.pending();
    }
    const refusal = endRefusal(rec, sold, ctx.now);
    if (refusal) return { result: { ok: false, error: refusal } };
    endHold(c, rec, sold, `${ev.id}/unhold`, { id: ev.id, result: { ok: true, reservation: id }, event: ev });
    return c.pending();
  };
}

/** The expiry timer of a hold in force: ends it, unless it was ended or replaced since. */
export function expire(c: StockChange, timer: TimerSpec): boolean {
  const { reservation } = timer.data as { reservation: string };
  const res = c.view.get<ReservationRecord>(keys.reservation(reservation));
  if (!res || isPendingReservation(res) || res.order || res.expiresAt !== timer.at) return false;
  endHold(c, res, false, expiryId(res));
  return true;
}

/**
 * The SKU ended the hold of a release or commit: answered here, on the reservation's partition,
 * where the release or commit was applied (a pending event is answered on its own partition).
 */
const unheld: Handler = (c, ev) => {
  const { id, result, event } = ev.answer as { id: string; result: FinalResult; event: InputEvent };
  c.answer(id, result, event);
  return c.effects();
};

export const RESERVATION_STEPS: Record<string, Handler> = {
  'stock.reserve': reserve,
  'stock.release': endReservation(false),
  'stock.commit': endReservation(true),
  'stock.held': held,
  'stock.unheld': unheld,
};
