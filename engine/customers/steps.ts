// The customer domain's derived events (internal-events.ts), each applied on the partition that
// owns what it changes (partitioning.ts):
//
//   customer.forwarded  customer      activity or an order's news for a customer named otherwise
//   customer.answered   origin        the forwarded activity's answer, where its sender waits
//   customer.moved      merged name   a merge or link took this name's customer: hand its state on
//   customer.absorb     survivor      the merged-away state joins the survivor's
//   customer.arrived    identity      one more of a link's moves done: at the last, it is answered
//   recs.touch          name          `recs/<name>` shows another list now
//   rec.item            item bucket   the item's half of an activity
//   rec.indexed         item bucket   a merged session now lists an item

import type { Effects, EventContext, InputEvent } from '../types.ts';
import type { StagedState } from '../staged-state.ts';
import { applyActivity } from './activity.ts';
import type {
  AbsorbEvent,
  AnsweredEvent,
  ArrivedEvent,
  ForwardedEvent,
  ItemActivityEvent,
  ItemIndexEvent,
  LinkWait,
  MovedEvent,
  TouchEvent,
} from './internal-events.ts';
import { ERASURE_STEPS, linkSettled } from './erasure.ts';
import { absorbLoyalty, applyLoyalty, grantCoupon, loyaltyTimerIds, loyaltyTopic, noteRedemption, takeLoyalty, unnoteRedemption, type CouponForgetEvent, type NotedEvent, type UnnoteEvent } from './loyalty.ts';
import { forgetCoupon } from './coupons.ts';
import { applyOrderNews, keepOlder, mergeOrders, olderOrders, recentOrders } from './orders.ts';
import { indexSession, recordForItem, sessionLog } from './recommender/mod.ts';
import { aliasTouches, homeOf, MAX_HOPS } from './route.ts';
import { currentSession, mergeSession } from './sessions.ts';
import { keys, topics, type ResolvedCustomerOptions } from './types.ts';

type Step = (state: StagedState, ev: InputEvent, ctx: EventContext, o: ResolvedCustomerOptions) => Effects;

const done = (state: StagedState, rest: Omit<Effects, 'result' | 'writes'> = {}): Effects => ({ result: { ok: true }, writes: state.writes(), ...rest });

const forwarded: Step = (state, raw, _ctx, o) => {
  const ev = raw as ForwardedEvent;
  const home = homeOf(state, ev.customer);
  if (home !== ev.customer) {
    if (ev.hops < MAX_HOPS) return done(state, { emit: [{ ...ev, id: `${ev.id}+`, customer: home, hops: ev.hops + 1 }] });
    if (ev.origin === undefined) return done(state);
    const result = { ok: false as const, error: { code: 'internal' as const, message: `customer '${ev.customer}': its state was moved more than ${MAX_HOPS} times in a row` } };
    return done(state, { emit: [answered(ev, result)] });
  }
  if (ev.order !== undefined) {
    applyOrderNews(state, home, ev.order, o.ordersKept);
    return done(state);
  }
  if (ev.event.type === 'coupon.granted') {
    grantCoupon(state, home, ev.event.coupon as string);
    return done(state);
  }
  if (ev.event.type.startsWith('loyalty.')) {
    const outcome = applyLoyalty(state, ev.event, home, ev.time, ev.origin!);
    const touches = outcome.result.ok ? aliasTouches(state, home, ev.event.id, 'loyalty').filter((t) => t.name !== ev.origin) : [];
    return { ...outcome.effects, result: { ok: true }, emit: [outcome.then ?? answered(ev, outcome.result), ...touches] };
  }
  const applied = applyActivity(state, ev.event, home, ev.time, o);
  return { ...applied, result: { ok: true }, emit: [...(applied.emit ?? []), answered(ev, applied.result)] };
};

function answered(ev: ForwardedEvent, result: AnsweredEvent['answer']['result']): AnsweredEvent {
  return { id: `${ev.id}/answer`, type: 'customer.answered', origin: ev.origin!, answer: { id: ev.event.id, result, event: ev.event } };
}

// The id the activity came from may have subscribers of its own (a shopper's token named by the
// device it first used): its topic shows the customer's list, changed by this activity.
const answer: Step = (state, raw) => {
  const ev = raw as AnsweredEvent;
  const topic = originTopic(ev);
  return done(state, { answers: [ev.answer], ...(ev.answer.result.ok && topic !== undefined ? { changed: [topic] } : {}) });
};

/** The topic of the subject an answered event named, which shows its customer's state (a refund names no subject). */
function originTopic(ev: AnsweredEvent): string | undefined {
  const type = ev.answer.event.type;
  if (type === 'loyalty.refunded') return undefined;
  return type.startsWith('loyalty.') ? loyaltyTopic(ev.origin) : topics.recs(ev.origin);
}

const moved: Step = (state, raw) => {
  const ev = raw as MovedEvent;
  const record = currentSession(state, ev.from);
  const orders = recentOrders(state, ev.from);
  const older = olderOrders(state, ev.from);
  // The log stays: other sessions' neighbours are read from it, under its own session id.
  if (record !== undefined) state.put(keys.session(ev.from), undefined);
  if (orders.length > 0) state.put(keys.orders(ev.from), undefined);
  if (older.length > 0) state.put(keys.olderOrders(ev.from), undefined);
  state.put(keys.moved(ev.from), ev.into);
  const loyalty = takeLoyalty(state, ev.from);
  const log = record === undefined ? undefined : sessionLog(state, record.id);
  const absorb: AbsorbEvent = {
    id: `${ev.id}/absorb`,
    type: 'customer.absorb',
    from: ev.from,
    into: ev.into,
    ...(record !== undefined ? { session: { record, ...(log !== undefined ? { log } : {}) } } : {}),
    orders,
    ...(older.length > 0 ? { older } : {}),
    ...(loyalty !== undefined ? { loyalty } : {}),
    hops: 0,
    ...(ev.link !== undefined ? { link: ev.link } : {}),
  };
  // `loyalty/<from>` shows the survivor's balance once it arrives there; until then, nothing.
  // Its expiry timers are set again under the survivor; here their ids would name `from` until they fire.
  const moves = loyalty !== undefined ? { changed: [loyaltyTopic(ev.from)], timers: { cancel: loyaltyTimerIds(ev.from, loyalty) } } : {};
  return done(state, { emit: [absorb], ...moves });
};

const absorb: Step = (state, raw, _ctx, o) => {
  const ev = raw as AbsorbEvent;
  let home = homeOf(state, ev.into);
  if (home !== ev.into && ev.hops < MAX_HOPS) return done(state, { emit: [{ ...ev, id: `${ev.id}+`, into: home, hops: ev.hops + 1 }] });
  // Moved on too often (corrupt state): kept here rather than written where another partition owns it.
  home = ev.into;
  const index = ev.session === undefined ? [] : mergeSession(state, home, ev.session, o.sessionGapMs, o.recommender);
  mergeOrders(state, ev.orders, home, o.ordersKept);
  keepOlder(state, home, ev.older ?? []);
  const points = ev.loyalty === undefined ? {} : absorbLoyalty(state, home, ev.loyalty);
  const indexed: ItemIndexEvent[] = index.map((e) => ({ id: `${ev.id}/index/${e.sku}`, type: 'rec.indexed', ...e }));
  // The `recs/` topics the move changed are touched once the link's last move has arrived
  // (arrived): one update each per link, however the moves were batched on the way.
  const arrived: ArrivedEvent[] = ev.link !== undefined ? [{ id: `${ev.id}/arrived`, type: 'customer.arrived', link: ev.link }] : [];
  return done(state, { ...points, emit: [...indexed, ...arrived] });
};

const arrived: Step = (state, raw, _ctx, o) => {
  const ev = raw as ArrivedEvent;
  const wait = state.get<LinkWait>(keys.linkWait(ev.link));
  if (wait === undefined) return done(state);
  if (wait.left > 1) {
    state.put(keys.linkWait(ev.link), { ...wait, left: wait.left - 1 });
    return done(state);
  }
  state.put(keys.linkWait(ev.link), undefined);
  // Erasures of the linked customer waited for this: they start now.
  const erasures = linkSettled(state, ev.link, wait.touch ?? [], o);
  // An erasure that waited for this link started now: the link's answer lists ids already erased.
  const result = (erasures.emit ?? []).length > 0 ? { ok: true as const, redacted: true } : wait.result;
  const answers = [{ id: ev.link, result, event: wait.event }, ...(erasures.answers ?? [])];
  return done(state, { answers, emit: [...linkTouches(state, ev.link, wait.touch ?? []), ...(erasures.emit ?? [])], redactAnswers: erasures.redactAnswers });
};

/**
 * Every name a link moved shows the survivor's list now (render resolves it), the survivor its
 * merged list, and so do the survivor's other customer ids: each `recs/` topic touched once,
 * on its own partition, by the identity partition that knows them all.
 */
function linkTouches(state: StagedState, link: string, names: readonly string[]): TouchEvent[] {
  const touches = names.map((name): TouchEvent => ({ id: `${link}/touch/${name}`, type: 'recs.touch', name }));
  const survivor = names[0];
  if (survivor === undefined) return touches;
  return [...touches, ...aliasTouches(state, survivor, link).filter((t) => !names.includes(t.name))];
}

const touch: Step = (state, raw) => {
  const ev = raw as TouchEvent;
  return done(state, { changed: [ev.topic === 'loyalty' ? loyaltyTopic(ev.name) : topics.recs(ev.name)] });
};

const item: Step = (state, raw, _ctx, o) => {
  const ev = raw as ItemActivityEvent;
  recordForItem(state, ev.sku, ev.session, ev.kind, ev.time, ev.had, o.recommender);
  return done(state);
};

const indexed: Step = (state, raw, _ctx, o) => {
  const ev = raw as ItemIndexEvent;
  indexSession(state, ev.sku, ev.session, ev.time, o.recommender);
  return done(state);
};

export const STEPS: Record<string, Step> = {
  'customer.forwarded': forwarded,
  'customer.answered': answer,
  'customer.moved': moved,
  'customer.absorb': absorb,
  'customer.arrived': arrived,
  'recs.touch': touch,
  'rec.item': item,
  'rec.indexed': indexed,
  'loyalty.noted': (state, ev, ctx) => noteRedemption(state, ev as NotedEvent, ctx.eventTime),
  'loyalty.unnote': (state, ev) => unnoteRedemption(state, ev as UnnoteEvent),
  'coupon.forget': (state, ev) => forgetCoupon(state, ev as CouponForgetEvent),
  ...ERASURE_STEPS,
};
