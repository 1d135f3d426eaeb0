// Coupons, each kept on its own partition (keyed by the coupon id): every issue and use of one
// coupon is applied there, in order, so its uses are counted by one writer and can never pass
// `maxUses`, however many connections redeem it at once. A coupon restricted to a customer is
// checked by resolving both the coupon's subject and the redeemer through the identity records
// (committed reads, as the service domain reads them): after a merge both name the survivor, so
// the coupon follows the merge.

import { rejection } from '../errors.ts';
import type { Effects, EventContext, InputEvent, StateView } from '../types.ts';
import type { StagedState } from '../staged-state.ts';
import { isBlocked, resolveCustomer } from './identity/mod.ts';
import type { ForgottenEvent } from './internal-events.ts';
import type { CouponForgetEvent } from './loyalty.ts';
import { forward } from './route.ts';
import type { ResolvedCustomerOptions } from './types.ts';

/** `lo/cp/<coupon>` */
export interface CouponRecord {
  value?: number;
  /** Only this customer (any id of it) may use it. */
  subject?: string;
  validUntil?: number;
  maxUses: number;
  uses: number;
  issued: number;
}

const couponKey = (coupon: string) => `lo/cp/${coupon}`;

/** A coupon as issued and used so far; the data-subject export shows a coupon restricted to the customer whole. */
export const couponRecord = (view: StateView, coupon: string) => view.get<CouponRecord>(couponKey(coupon));

/** The customer a subject names now: ids never linked name themselves. */
const customerOf = (view: StateView, subject: string) => resolveCustomer(view, subject) ?? subject;

export function applyCoupon(state: StagedState, ev: InputEvent, ctx: EventContext, o: ResolvedCustomerOptions): Effects {
  const coupon = ev.coupon as string;
  const record = state.get<CouponRecord>(couponKey(coupon));
  if (ev.type === 'coupon.issued') {
    if (record !== undefined) return { result: rejection('conflict', `coupon '${coupon}' was issued already`) };
    // Optional fields may arrive as null.
    const subject = (ev.subject ?? undefined) as string | undefined;
    if (subject !== undefined && isBlocked(subject, o.identity)) return { result: rejection('invalid_event', `coupon.issued: '${subject}' is a blocked identifier and names no customer`) };
    const issued: CouponRecord = {
      ...(ev.value != null ? { value: ev.value as number } : {}),
      ...(subject !== undefined ? { subject } : {}),
      ...(ev.validUntil != null ? { validUntil: ev.validUntil as number } : {}),
      maxUses: (ev.maxUses as number | null | undefined) ?? 1,
      uses: 0,
      issued: ctx.eventTime,
    };
    state.put(couponKey(coupon), issued);
    // The customer's partition records it, so that the customer's erasure removes it too.
    const grant = subject === undefined ? [] : [forward(`${ev.id}/grant`, subject, { id: ev.id, type: 'coupon.granted', coupon }, ctx.eventTime)];
    return { result: { ok: true, coupon, maxUses: issued.maxUses }, writes: state.writes(), ...(grant.length > 0 ? { emit: grant } : {}) };
  }
  if (record === undefined) return { result: rejection('unknown_coupon', `no coupon '${coupon}'`) };
  const subject = ev.subject as string;
  if (record.subject !== undefined && customerOf(state, record.subject) !== customerOf(state, subject)) {
    return { result: rejection('forbidden', `coupon '${coupon}' belongs to another customer`) };
  }
  if (record.validUntil !== undefined && ctx.eventTime > record.validUntil) return { result: rejection('coupon_expired', `coupon '${coupon}' was valid until ${record.validUntil}`) };
  if (record.uses >= record.maxUses) return { result: rejection('coupon_used', `coupon '${coupon}' was used ${record.uses} of ${record.maxUses} times`) };
  state.put(couponKey(coupon), { ...record, uses: record.uses + 1 });
  return {
    result: { ok: true, coupon, ...(record.value !== undefined ? { value: record.value } : {}), uses: record.uses + 1, maxUses: record.maxUses },
    writes: state.writes(),
  };
}

/** `coupon.forget`, on the coupon's partition: a coupon restricted to an erased customer goes. */
export function forgetCoupon(state: StagedState, ev: CouponForgetEvent): Effects {
  if (state.get(couponKey(ev.coupon)) !== undefined) state.put(couponKey(ev.coupon), undefined);
  const reply: ForgottenEvent = { id: `${ev.id}/done`, type: 'customer.forgotten', erasure: ev.erasure, part: false, add: 0, counts: {} };
  return { result: { ok: true }, writes: state.writes(), emit: [reply] };
}
