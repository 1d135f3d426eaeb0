// Loyalty points: one balance per customer, kept on the customer's partition with the rest of its
// state (route.ts), so every earning and spending of one customer is applied by one partition in
// order — a balance can never be spent twice — and a merge moves it like a session
// (customer.moved / customer.absorb), counted once whatever order links and earnings arrive in.
//
//   loyalty.earned     subject      a lot of points (with its expiry), on the customer's partition
//   loyalty.redeemed   subject      the oldest lots spent first; `insufficient_points` otherwise
//   loyalty.noted      redemption   the redemption's index: which customer to refund; an id
//                                   another customer's redemption holds is withdrawn
//   loyalty.refunded   redemption   forwarded to the customer the index names (followed on moves)
//   loyalty.unnote     redemption   erasure: the index entry goes
//
// A redemption is answered only once its index is written, so a refund sent after the answer
// always finds it. A redemption id names one customer's redemption: a refund names only the id,
// so a second customer reusing it is refused `duplicate_redemption` — at once when the index is
// already committed, else when its index step finds the other customer's entry, which then
// gives the points it took back (`loyalty.withdrawn`, forwarded to the customer) before the
// refusal is answered. Points expire on the clock (a durable timer per expiry time), and an event
// whose own time is past a lot's expiry no longer counts that lot.

import { rejection } from '../errors.ts';
import type { Effects, FinalResult, InputEvent, StateView, TimerSpec } from '../types.ts';
import type { StagedState } from '../staged-state.ts';
import { customerProfile } from './context.ts';
import { resolveCustomer } from './identity/mod.ts';
import type { AnsweredEvent, ForgottenEvent } from './internal-events.ts';
import { forward } from './route.ts';
import { balanceOf, loyaltyKeys, loyaltyRecord, loyaltyTopic, type LoyaltyEntry, type LoyaltyRecord, type Lot } from './loyalty-record.ts';

export * from './loyalty-record.ts';

const HISTORY_KEPT = 100;
/** Redemptions a refund can still reach per customer: older ones answer `unknown_redemption`. */
const REDEMPTIONS_KEPT = 1000;

const emptyRecord = (): LoyaltyRecord => ({ lots: [], redemptions: {}, history: [] });

const timerOf = (name: string, at: number): TimerSpec => ({ id: `loyalty/${name}/${at}`, at, data: { name, at } });

function withHistory(record: LoyaltyRecord, entry: LoyaltyEntry): LoyaltyRecord {
  const history = [...record.history, entry];
  return { ...record, history: history.length > HISTORY_KEPT ? history.slice(-HISTORY_KEPT) : history };
}

/** Lots still valid at `time`. */
const valid = (lots: readonly Lot[], time: number) => lots.filter((lot) => lot.at === undefined || lot.at > time);

/**
 * The record as of `time`: lots expired by then leave it with an `expired` entry each, as their
 * timer would write (an event may come after the expiry and before the timer fires; the timer
 * then finds nothing left to expire).
 */
function dropExpired(record: LoyaltyRecord, name: string, time: number): LoyaltyRecord {
  const lots = valid(record.lots, time);
  if (lots.length === record.lots.length) return record;
  let out: LoyaltyRecord = { ...record, lots };
  for (const [at, points] of byExpiry(record.lots, time)) out = withHistory(out, { kind: 'expired', points, time: at, event: timerOf(name, at).id });
  return out;
}

/** The points of `lots` per expiry time (those expiring by `until` only, when given), earliest first. */
function byExpiry(lots: readonly Lot[], until = Infinity): Array<[number, number]> {
  const byAt = new Map<number, number>();
  for (const lot of lots) if (lot.at !== undefined && lot.at <= until) byAt.set(lot.at, (byAt.get(lot.at) ?? 0) + lot.points);
  return [...byAt].sort((a, b) => a[0] - b[0]);
}

/** `record` noting timers set at `ats` under its name. */
function withTimers(record: LoyaltyRecord, ats: readonly number[]): LoyaltyRecord {
  if (ats.every((at) => record.timers?.includes(at))) return record;
  return { ...record, timers: [...new Set([...(record.timers ?? []), ...ats])].sort((a, b) => a - b) };
}

/** The ids of every expiry timer that may be pending under `name` for `record` (older records: their lots' expiries). */
export function loyaltyTimerIds(name: string, record: LoyaltyRecord): string[] {
  const ats = new Set(record.timers ?? []);
  for (const lot of [...record.lots, ...Object.values(record.redemptions).flatMap((r) => r.lots)]) if (lot.at !== undefined) ats.add(lot.at);
  return [...ats].map((at) => timerOf(name, at).id);
}

/** Spends `points` from the oldest lots: the lots left and the parts taken. */
function spend(lots: readonly Lot[], points: number): { left: Lot[]; taken: Lot[] } {
  const left: Lot[] = [];
  const taken: Lot[] = [];
  let due = points;
  for (const lot of lots) {
    const part = Math.min(due, lot.points);
    due -= part;
    if (part > 0) taken.push({ ...lot, points: part });
    if (lot.points > part) left.push({ ...lot, points: lot.points - part });
  }
  return { left, taken };
}

/** Oldest earned first; equal times keep their order. */
const byAge = (lots: readonly Lot[]) => [...lots].sort((a, b) => a.earned - b.earned);

/** What one loyalty event did on the customer's partition: the sender's answer is `result`, given where it waits. */
export interface LoyaltyOutcome {
  result: FinalResult;
  effects: Omit<Effects, 'result'>;
  /** The answer waits for this step (a redemption's index), which gives it. */
  then?: InputEvent;
}

/**
 * A loyalty event applied on `home`'s partition (the customer's state). `origin` is the partition
 * key the sender's event waits on: a redemption's index answers it there.
 */
export function applyLoyalty(state: StagedState, ev: InputEvent, home: string, time: number, origin: string): LoyaltyOutcome {
  const record = dropExpired(loyaltyRecord(state, home) ?? emptyRecord(), home, time);
  const lots = record.lots;
  const changed = [loyaltyTopic(home)];
  if (ev.type === 'loyalty.earned') {
    const points = ev.points as number;
    // An optional field may arrive as null.
    const at = (ev.expiresAt ?? undefined) as number | undefined;
    if (at !== undefined && at <= time) return { result: rejection('invalid_event', `loyalty.earned: expiresAt ${at} is not after the event's time ${time}`), effects: {} };
    const lot: Lot = { points, earned: time, ...(at !== undefined ? { at } : {}) };
    const entry: LoyaltyEntry = { kind: 'earned', points, time, event: ev.id, ...pick(ev, 'reason', 'order') };
    state.put(loyaltyKeys.record(home), withHistory(withTimers({ ...record, lots: byAge([...lots, lot]) }, at === undefined ? [] : [at]), entry));
    const balance = balanceOf(lots) + points;
    return { result: { ok: true, customer: home, balance }, effects: { writes: state.writes(), changed, ...(at !== undefined ? { timers: { set: [timerOf(home, at)] } } : {}) } };
  }
  if (ev.type === 'loyalty.redeemed') {
    const points = ev.points as number;
    const redemption = ev.redemption as string;
    if (record.redemptions[redemption] !== undefined) return { result: rejection('conflict', `redemption '${redemption}' was made already`), effects: {} };
    // A committed read of the index's partition: a reuse racing this one is caught by noteRedemption.
    const named = redemptionCustomer(state, redemption);
    if (named !== undefined && named !== home) return { result: duplicateRedemption(redemption), effects: {} };
    const balance = balanceOf(lots);
    if (balance < points) return { result: { ok: false, error: { code: 'insufficient_points', message: `the balance is ${balance} points, ${points} were asked for`, wanted: points, available: balance } }, effects: {} };
    const { left, taken } = spend(lots, points);
    const redemptions = keepLast({ ...record.redemptions, [redemption]: { lots: taken, noted: home } });
    state.put(loyaltyKeys.record(home), withHistory({ ...record, lots: left, redemptions }, { kind: 'redeemed', points, time, event: ev.id, redemption }));
    const result = { ok: true as const, customer: home, balance: balance - points };
    const noted: NotedEvent = { id: `${ev.id}/noted`, type: 'loyalty.noted', redemption, customer: home, origin, answer: { id: ev.id, result, event: ev } };
    return { result, effects: { writes: state.writes(), changed }, then: noted };
  }
  if (ev.type === 'loyalty.withdrawn') return withdraw(state, ev as WithdrawnEvent, home, origin, record, changed);
  // loyalty.refunded, forwarded by the redemption's index.
  const redemption = ev.redemption as string;
  const spent = record.redemptions[redemption];
  if (spent === undefined || spent.refunded) {
    return { result: rejection('unknown_redemption', spent ? `redemption '${redemption}' was refunded already` : `no redemption '${redemption}' is kept`), effects: {} };
  }
  const back = valid(spent.lots, time);
  const points = balanceOf(back);
  const redemptions = { ...record.redemptions, [redemption]: { ...spent, refunded: true as const } };
  const given = giveBack({ ...record, redemptions }, back, home);
  state.put(loyaltyKeys.record(home), withHistory(given.record, { kind: 'refunded', points, time, event: ev.id, redemption }));
  const result = { ok: true as const, customer: home, points, expired: balanceOf(spent.lots) - points, balance: balanceOf(lots) + points };
  return { result, effects: { writes: state.writes(), changed, ...given.timers } };
}

/** `record` with `back` (a redemption's lots) among its lots again, and a timer set anew for each of their expiries. */
function giveBack(record: LoyaltyRecord, back: readonly Lot[], home: string): { record: LoyaltyRecord; timers: Pick<Effects, 'timers'> } {
  const timers = back.filter((l) => l.at !== undefined).map((l) => timerOf(home, l.at!));
  return {
    record: withTimers({ ...record, lots: byAge([...record.lots, ...back]) }, timers.map((t) => t.at)),
    timers: timers.length > 0 ? { timers: { set: timers } } : {},
  };
}

const duplicateRedemption = (redemption: string) => rejection('duplicate_redemption', `redemption '${redemption}' is another customer's: a redemption id names one redemption`);

/**
 * A redemption whose id turned out to be another customer's: what it took comes back (expiries
 * passed meanwhile are removed again by their timers), it leaves the record and the history as if
 * never made, and only then is the sender answered with the refusal.
 */
function withdraw(state: StagedState, ev: WithdrawnEvent, home: string, origin: string, record: LoyaltyRecord, changed: string[]): LoyaltyOutcome {
  const answered: AnsweredEvent = { id: `${ev.id}/answer`, type: 'customer.answered', origin, answer: ev.answer };
  const spent = record.redemptions[ev.redemption];
  // Erased meanwhile: nothing is left to give back, and no record is made again.
  if (spent === undefined) return { result: { ok: true }, effects: {}, then: answered };
  const back = spent.lots;
  const { [ev.redemption]: _, ...redemptions } = record.redemptions;
  const history = record.history.filter((h) => !(h.kind === 'redeemed' && h.redemption === ev.redemption && h.event === ev.answer.id));
  const given = giveBack({ ...record, redemptions, history }, back, home);
  state.put(loyaltyKeys.record(home), given.record);
  return { result: { ok: true }, effects: { writes: state.writes(), changed, ...given.timers }, then: answered };
}

function pick(ev: InputEvent, ...fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) if (typeof ev[f] === 'string') out[f] = ev[f] as string;
  return out;
}

function keepLast<T>(map: Record<string, T>): Record<string, T> {
  const names = Object.keys(map);
  if (names.length <= REDEMPTIONS_KEPT) return map;
  return Object.fromEntries(names.slice(-REDEMPTIONS_KEPT).map((n) => [n, map[n]]));
}

/** A redemption's index, written on its own partition before the redemption is answered. */
export interface NotedEvent extends InputEvent {
  type: 'loyalty.noted';
  redemption: string;
  customer: string;
  origin: string;
  answer: AnsweredEvent['answer'];
}

/** Erasure: a redemption's index entry names the customer; it goes too. */
export interface UnnoteEvent extends InputEvent {
  type: 'loyalty.unnote';
  redemption: string;
  erasure: string;
  /** The name the entry was written for: another customer's entry under a reused id stays. */
  noted?: string;
}


/** A redemption withdrawn (noteRedemption), forwarded to its customer: `answer` is the sender's refusal, given at its origin. */
export interface WithdrawnEvent extends InputEvent {
  type: 'loyalty.withdrawn';
  redemption: string;
  answer: AnsweredEvent['answer'];
}

export function noteRedemption(state: StagedState, ev: NotedEvent, time: number): Effects {
  const named = redemptionCustomer(state, ev.redemption);
  if (named !== undefined && named !== ev.customer) {
    // The index keeps naming the first customer, whose refund it is; this spending is undone.
    const answer = { ...ev.answer, result: duplicateRedemption(ev.redemption) };
    const withdrawn: WithdrawnEvent = { id: `${ev.id}/withdrawn`, type: 'loyalty.withdrawn', redemption: ev.redemption, answer };
    return { result: { ok: true }, emit: [forward(`${ev.id}/withdraw`, ev.customer, withdrawn, time, { origin: ev.origin })] };
  }
  state.put(loyaltyKeys.redemption(ev.redemption), ev.customer);
  const answered: AnsweredEvent = { id: `${ev.id}/answer`, type: 'customer.answered', origin: ev.origin, answer: ev.answer };
  return { result: { ok: true }, writes: state.writes(), emit: [answered] };
}

export function unnoteRedemption(state: StagedState, ev: UnnoteEvent): Effects {
  const named = redemptionCustomer(state, ev.redemption);
  if (named !== undefined && (ev.noted === undefined || named === ev.noted)) state.put(loyaltyKeys.redemption(ev.redemption), undefined);
  const reply: ForgottenEvent = { id: `${ev.id}/done`, type: 'customer.forgotten', erasure: ev.erasure, part: false, add: 0, counts: {} };
  return { result: { ok: true }, writes: state.writes(), emit: [reply] };
}

/** The customer a refund's redemption spent the points of, as its index names it (a merge may have moved it on since). */
export const redemptionCustomer = (view: StateView, redemption: string) => view.get<string>(loyaltyKeys.redemption(redemption));

/** A lot-expiry timer on the name's partition: lots due by the clock go. */
export function expireLots(state: StagedState, timer: TimerSpec, now: number): Omit<Effects, 'result'> {
  const { name, at } = timer.data as { name: string; at: number };
  const stored = loyaltyRecord(state, name);
  if (stored === undefined) return {};
  const record = stored.timers?.includes(at) ? { ...stored, timers: stored.timers.filter((t) => t !== at) } : stored;
  const left = valid(record.lots, now);
  const points = balanceOf(record.lots) - balanceOf(left);
  if (points === 0) {
    if (record !== stored) state.put(loyaltyKeys.record(name), record);
    return { writes: state.writes() };
  }
  state.put(loyaltyKeys.record(name), withHistory({ ...record, lots: left }, { kind: 'expired', points, time: now, event: timer.id }));
  return { writes: state.writes(), changed: [loyaltyTopic(name)] };
}

/** A merge: the record kept under `from` leaves its partition (customer.moved). */
export function takeLoyalty(state: StagedState, from: string): LoyaltyRecord | undefined {
  const record = loyaltyRecord(state, from);
  if (record !== undefined) state.put(loyaltyKeys.record(from), undefined);
  return record;
}

/** A merge: `from`'s record joins the survivor's (customer.absorb), with timers for its expiries here. */
export function absorbLoyalty(state: StagedState, into: string, moved: LoyaltyRecord): Omit<Effects, 'result' | 'writes'> {
  const record = loyaltyRecord(state, into) ?? emptyRecord();
  const history = [...record.history, ...moved.history].sort((a, b) => a.time - b.time).slice(-HISTORY_KEPT);
  const coupons = [...new Set([...(record.coupons ?? []), ...(moved.coupons ?? [])])];
  const ats = new Set(moved.lots.flatMap((l) => (l.at !== undefined ? [l.at] : [])));
  const merged: LoyaltyRecord = { ...record, lots: byAge([...record.lots, ...moved.lots]), redemptions: keepLast({ ...record.redemptions, ...moved.redemptions }), history, ...(coupons.length > 0 ? { coupons } : {}) };
  state.put(loyaltyKeys.record(into), withTimers(merged, [...ats]));
  return { changed: [loyaltyTopic(into)], ...(ats.size > 0 ? { timers: { set: [...ats].map((at) => timerOf(into, at)) } } : {}) };
}

/** A coupon restricted to the customer, recorded with its balance so that an erasure finds it. */
export function grantCoupon(state: StagedState, home: string, coupon: string): void {
  const record = loyaltyRecord(state, home) ?? emptyRecord();
  if (record.coupons?.includes(coupon)) return;
  state.put(loyaltyKeys.record(home), { ...record, coupons: [...(record.coupons ?? []), coupon] });
}

/** Erasure: a coupon restricted to the erased customer goes (on the coupon's partition). */
export interface CouponForgetEvent extends InputEvent {
  type: 'coupon.forget';
  coupon: string;
  erasure: string;
}

/**
 * Erasure (customer.forget): the name's balance and history go, the index of each of its
 * redemptions, the coupons restricted to it (`emit`), and its pending expiry timers (`cancel`),
 * whose ids name it.
 */
export function forgetLoyalty(state: StagedState, name: string, erasure: string, cause: string): { emit: Array<UnnoteEvent | CouponForgetEvent>; cancel: string[] } {
  const record = takeLoyalty(state, name);
  if (record === undefined) return { emit: [], cancel: [] };
  const emit = [
    ...Object.entries(record.redemptions).map(([redemption, { noted }]): UnnoteEvent => ({ id: `${cause}/unnote/${redemption}`, type: 'loyalty.unnote', redemption, erasure, ...(noted !== undefined ? { noted } : {}) })),
    ...(record.coupons ?? []).map((coupon): CouponForgetEvent => ({ id: `${cause}/coupon/${coupon}`, type: 'coupon.forget', coupon, erasure })),
  ];
  return { emit, cancel: loyaltyTimerIds(name, record) };
}

export interface LoyaltyExport {
  balance: number;
  lots: Lot[];
  history: LoyaltyEntry[];
  coupons: Array<{ coupon: string }>;
}

/** The data-subject export's part (export.ts): read on the customer's name as the survivor of its merges. */
export function loyaltyExport(view: StateView, customer: string): { loyalty?: LoyaltyExport } {
  const record = loyaltyRecord(view, customer);
  if (record === undefined) return {};
  return { loyalty: { balance: balanceOf(record.lots), lots: record.lots, history: record.history, coupons: (record.coupons ?? []).map((coupon) => ({ coupon })) } };
}

/** `loyalty/<subject>`: the balance of the customer behind a subject; undefined when it never had one. */
export function renderLoyalty(view: StateView, subject: string, vipPoints: number | undefined): unknown {
  const customer = resolveCustomer(view, subject) ?? subject;
  const record = loyaltyRecord(view, customer) ?? loyaltyRecord(view, subject);
  if (record === undefined) return undefined;
  const balance = balanceOf(record.lots);
  const expiring = byExpiry(record.lots).map(([at, points]) => ({ points, at }));
  return { customer, balance, expiring, tier: tierOf(view, customer, vipPoints) };
}

/** The customer's tier: vip by profile, or by a balance reaching `vipPoints` when that is set. */
export function tierOf(view: StateView, customer: string, vipPoints: number | undefined): 'standard' | 'vip' {
  if (customerProfile(view, customer)?.tier === 'vip') return 'vip';
  return pointsReach(view, customer, vipPoints) ? 'vip' : 'standard';
}

/** The customer's balance reaches `vipPoints` (never when that is not set). */
function pointsReach(view: StateView, customer: string, vipPoints: number | undefined): boolean {
  if (vipPoints === undefined) return false;
  const record = loyaltyRecord(view, customer);
  return record !== undefined && balanceOf(record.lots) >= vipPoints;
}

/** Reads the service domain routes by: the profile, with the tier raised to vip by points (`vipPoints`). */
export function profileWithPoints(vipPoints: number | undefined) {
  return (view: StateView, customer: string) => {
    const profile = customerProfile(view, customer);
    // The profile is read once: the routing of every request comes here.
    if (profile?.tier === 'vip' || !pointsReach(view, customer, vipPoints)) return profile;
    return { ...(profile ?? {}), tier: 'vip' as const };
  };
}
